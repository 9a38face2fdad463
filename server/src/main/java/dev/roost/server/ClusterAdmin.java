package dev.roost.server;

import dev.roost.api.Peers;
import dev.roost.proto.AdminReply;
import dev.roost.proto.StatusCode;
import dev.roost.server.MembershipRules.Member;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException;
import org.apache.ratis.protocol.exceptions.ReconfigurationTimeoutException;
import org.apache.ratis.protocol.exceptions.SetConfigurationException;
import org.apache.ratis.protocol.exceptions.TransferLeadershipException;
import org.apache.ratis.rpc.CallId;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The membership and maintenance operations of one server, performed in-process on its Ratis server
 * (the {@code AdminAsynchronousProtocol} methods {@link RaftServer} implements), never through
 * Ratis' admin RPC service: that service has no authentication, so Roost refuses it ({@link
 * RatisAdminRefusal}) and exposes these operations only through the authenticated {@link
 * AdminEndpoint}.
 *
 * <p>Adding a server uses Ratis' <em>staging</em>: the leader sends the new server the log (or a
 * snapshot) while it is outside the configuration, so it counts in no quorum, and only once its log
 * is within {@link RaftTuning#STAGING_CATCHUP_GAP} entries of the commit index does the leader
 * commit the joint configuration and then the new one. A new server that does not answer for {@link
 * #STAGING_SILENCE_LIMIT}, or has not caught up within {@link #CHANGE_TIMEOUT}, fails the change
 * and the configuration stays as it was ({@link #abortStaging}). This is one atomic change, where
 * "add as listener, wait, promote" would be two, with a half-added listener left behind if the
 * operator or the leader died between them.
 *
 * <p>Add, remove and transfer must run on the leader; elsewhere they fail with {@link
 * AdminException#notLeader} naming it. One change at a time: a second change while one is in
 * progress (here, or started on an earlier leader and not committed yet) fails with {@code
 * FAILED_PRECONDITION}.
 */
final class ClusterAdmin {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterAdmin.class);

  /**
   * The longest a configuration change may take, catching up a new server included; a server still
   * being caught up then is abandoned, so that a slow or stuck one never blocks later changes for
   * longer. It stays below the admin client's 75 s operation timeout so that the client hears why.
   * A 96 MB snapshot loads in about 4 s ({@link StallWatch#BOUND}); a state so large that a new
   * server cannot catch up within this fails to be added, with the configuration unchanged.
   */
  static final Duration CHANGE_TIMEOUT = Duration.ofSeconds(60);

  /**
   * How long a server being added may leave the leader's requests unanswered before the change is
   * abandoned. Ratis fails such a change itself after {@link RaftTuning#STAGING_TIMEOUT}, but its
   * leader looks only once its event queue has been idle for a maximum election timeout, which a
   * steady write load never allows (every commit queues an event): the server would stay staged,
   * and every later change be refused, until the leader changed. Two seconds past Ratis' own limit
   * let an idle leader (which looks every 600 ms) fail the change its own way first.
   */
  static final Duration STAGING_SILENCE_LIMIT = RaftTuning.STAGING_TIMEOUT.plusSeconds(2);

  /** How often an add looks at the progress of the server being added. */
  private static final Duration STAGING_POLL = Duration.ofMillis(500);

  /** How long the leader tries to connect to a server being added before refusing it. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);

  /** The longest a leadership transfer or a snapshot may take. */
  static final Duration SHORT_TIMEOUT = Duration.ofSeconds(15);

  private final RaftServer raft;
  private final Duration aliveWindow;
  private final Runnable onAbort;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicBoolean changing = new AtomicBoolean();

  /**
   * @param aliveWindow a member the leader has heard from within this window counts as alive for
   *     {@link MembershipRules#checkRemove}
   * @param onAbort called each time an add is abandoned ({@link #abortStaging})
   */
  ClusterAdmin(RaftServer raft, Duration aliveWindow, Runnable onAbort) {
    this.raft = raft;
    this.aliveWindow = aliveWindow;
    this.onAbort = onAbort;
  }

  /**
   * Adds {@code id} at peer address {@code address} and client address {@code clientAddress} as a
   * voting member once it has caught up; the server must run in join mode (or otherwise hold the
   * group with no log). Returns when the new configuration is committed.
   */
  AdminReply add(String id, String address, String clientAddress) throws AdminException {
    RaftServer.Division leader = leaderDivision();
    List<Member> current = members(leader);
    RaftPeer added = MembershipRules.checkAdd(current, id, address, clientAddress);
    checkReachable(id, address);
    List<RaftPeer> voters = new ArrayList<>(voters(leader));
    voters.add(added);
    String what = "add " + id + "=" + Peers.addresses(added);
    changeTo(
        leader,
        voters,
        List.copyOf(leader.getRaftConf().getCurrentPeers(RaftPeerRole.LISTENER)),
        what,
        current,
        future -> awaitStaged(leader, future, id, what));
    return result(leader, "added", id);
  }

  /**
   * Removes {@code id}. The leader cannot remove itself here: {@code roost cluster remove} first
   * moves leadership with {@link #transfer}, so that the group never waits for an election.
   */
  AdminReply remove(String id) throws AdminException {
    RaftServer.Division leader = leaderDivision();
    List<Member> current = members(leader);
    MembershipRules.checkRemove(current, id);
    if (id.equals(leader.getId().toString())) {
      throw new AdminException(
          StatusCode.FAILED_PRECONDITION,
          id
              + " is the leader; move leadership first (roost cluster transfer"
              + MembershipRules.successor(current, id).map(s -> " " + s).orElse("")
              + "), then remove it on the new leader");
    }
    List<RaftPeer> voters =
        voters(leader).stream().filter(p -> !p.getId().toString().equals(id)).toList();
    List<RaftPeer> listeners =
        leader.getRaftConf().getCurrentPeers(RaftPeerRole.LISTENER).stream()
            .filter(p -> !p.getId().toString().equals(id))
            .toList();
    String what = "remove " + id;
    changeTo(
        leader, voters, listeners, what, current, future -> await(future, CHANGE_TIMEOUT, what));
    return result(leader, "removed", id);
  }

  /** Makes {@code id} the leader; returns once it leads. */
  AdminReply transfer(String id) throws AdminException {
    RaftServer.Division leader = leaderDivision();
    if (id.equals(leader.getId().toString())) {
      return result(leader, "already leads", id);
    }
    if (changing.get()) {
      throw inProgress(); // Ratis refuses to move leadership during a change, but less clearly
    }
    List<Member> current = members(leader);
    MembershipRules.checkTransfer(current, id);
    long term = leader.getInfo().getCurrentTerm();
    moveLeadership(RaftPeerId.valueOf(id), "transfer leadership to " + id);
    LOG.info(
        "membership: leadership transferred from {} to {} (term {} -> {})",
        leader.getId(),
        id,
        term,
        leader.getInfo().getCurrentTerm());
    return result(leader, "leads", id);
  }

  /** Takes a snapshot of this member's state now (any member, leader or not). */
  AdminReply snapshot() throws AdminException {
    RaftServer.Division self = division();
    RaftClientReply reply =
        await(
            call(
                () ->
                    raft.snapshotManagementAsync(
                        SnapshotManagementRequest.newCreate(
                            clientId,
                            raft.getId(),
                            Peers.GROUP_ID,
                            CallId.getAndIncrement(),
                            SHORT_TIMEOUT.toMillis(),
                            // a gap of 1: snapshot whatever was applied since the last one
                            1))),
            SHORT_TIMEOUT.plusSeconds(5),
            "snapshot");
    check(reply, "snapshot");
    LOG.info(
        "snapshot of {} taken on request at index {} (term {})",
        self.getId(),
        reply.getLogIndex(),
        self.getInfo().getCurrentTerm());
    return result(self, "snapshot taken", self.getId().toString()).toBuilder()
        .setSnapshotIndex(reply.getLogIndex())
        .build();
  }

  private void changeTo(
      RaftServer.Division leader,
      List<RaftPeer> voters,
      List<RaftPeer> listeners,
      String what,
      List<Member> before,
      Outcome outcome)
      throws AdminException {
    if (!changing.compareAndSet(false, true)) {
      throw inProgress();
    }
    try {
      // COMPARE_AND_SET: if another change committed since `before` was read, Ratis refuses
      // instead of silently undoing it.
      SetConfigurationRequest.Arguments args =
          SetConfigurationRequest.Arguments.newBuilder()
              .setServersInNewConf(voters)
              .setListenersInNewConf(listeners)
              .setServersInCurrentConf(voters(leader))
              .setListenersInCurrentConf(
                  List.copyOf(leader.getRaftConf().getCurrentPeers(RaftPeerRole.LISTENER)))
              .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
              .build();
      LOG.info(
          "membership: {} requested on leader {} (term {}, commit {}); members {}",
          what,
          leader.getId(),
          leader.getInfo().getCurrentTerm(),
          leader.getRaftLog().getLastCommittedIndex(),
          MembershipRules.format(before));
      RaftClientReply reply =
          outcome.await(
              call(
                  () ->
                      raft.setConfigurationAsync(
                          new SetConfigurationRequest(
                              clientId,
                              raft.getId(),
                              Peers.GROUP_ID,
                              CallId.getAndIncrement(),
                              args))));
      check(reply, what);
      LOG.info(
          "membership: {} committed by leader {} at term {} index {}; members {}",
          what,
          leader.getId(),
          leader.getInfo().getCurrentTerm(),
          leader.getRaftConf().getLogEntryIndex(),
          MembershipRules.format(members(leader)));
    } finally {
      changing.set(false);
    }
  }

  /** Waits for the reply to a configuration change. */
  private interface Outcome {
    RaftClientReply await(CompletableFuture<RaftClientReply> change) throws AdminException;
  }

  /**
   * Waits for the change that adds {@code id}. While the leader stages {@code id}, the change is
   * abandoned ({@link #abortStaging}) once {@code id} has not answered the leader for {@link
   * #STAGING_SILENCE_LIMIT}, or {@link #CHANGE_TIMEOUT} has passed; once the new configuration is
   * in the log, Ratis completes it.
   */
  private RaftClientReply awaitStaged(
      RaftServer.Division leader, CompletableFuture<RaftClientReply> change, String id, String what)
      throws AdminException {
    long start = System.nanoTime();
    while (true) {
      try {
        return change.get(STAGING_POLL.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        // not done yet: look at the staged server below
      } catch (ExecutionException e) {
        throw translate(e.getCause(), what);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AdminException(StatusCode.UNAVAILABLE, what + ": interrupted");
      }
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      if (!staging(leader, id)) {
        if (elapsedMs >= CHANGE_TIMEOUT.toMillis()) {
          throw noOutcome(what, CHANGE_TIMEOUT);
        }
        continue;
      }
      FollowerProgress progress = FollowerProgress.of(leader).get(id);
      long silentMs = progress == null ? elapsedMs : progress.lastAnswerMs();
      String why = null;
      if (silentMs >= STAGING_SILENCE_LIMIT.toMillis()) {
        why = id + " has not answered the leader for " + silentMs / 1000 + " s";
      } else if (elapsedMs >= CHANGE_TIMEOUT.toMillis()) {
        why =
            id
                + " has not caught up within "
                + CHANGE_TIMEOUT.toSeconds()
                + " s (it holds the log up to index "
                + (progress == null ? "unknown" : Long.toString(progress.matchIndex()))
                + ", the leader has committed "
                + leader.getRaftLog().getLastCommittedIndex()
                + ")";
      }
      if (why != null && !change.isDone()) {
        throw abortStaging(leader, id, what, why);
      }
    }
  }

  /**
   * Whether {@code leader} still leads and may be staging {@code id}: no change is under way in the
   * log and the configuration does not hold {@code id}.
   */
  private static boolean staging(RaftServer.Division leader, String id) {
    RaftConfiguration conf = leader.getRaftConf();
    return leader.getInfo().isLeader()
        && conf.getPreviousPeers(RaftPeerRole.FOLLOWER).isEmpty()
        && !holds(conf, id);
  }

  private static boolean holds(RaftConfiguration conf, String id) {
    return conf.getAllPeers(RaftPeerRole.FOLLOWER).stream()
        .anyMatch(p -> p.getId().toString().equals(id));
  }

  /**
   * Abandons the change adding {@code id} while the leader stages it. Ratis has no call for that,
   * and refuses to move leadership to a chosen member during a change; but the staging lives only
   * in the leader's memory, not in the log, so the leader steps down and whichever member is
   * elected next starts without it. Writes wait for that election.
   *
   * @return the failure to answer the add with
   */
  private AdminException abortStaging(
      RaftServer.Division leader, String id, String what, String why) {
    long term = leader.getInfo().getCurrentTerm();
    LOG.warn(
        "membership: {} aborted by leader {} at term {} commit {}: {}; stepping down so that the"
            + " next leader starts without the staged server",
        what,
        leader.getId(),
        term,
        leader.getRaftLog().getLastCommittedIndex(),
        why);
    onAbort.run();
    String stepDown;
    try {
      moveLeadership(null, "step down");
      stepDown = leader.getId() + " stepped down as leader (term " + term + ") to drop it";
    } catch (AdminException e) {
      LOG.warn(
          "membership: {} could not step down to abort {}: {}",
          leader.getId(),
          what,
          e.getMessage());
      stepDown =
          leader.getId()
              + " could not step down to drop it ("
              + e.getMessage()
              + "), so it stays staged until the leader changes";
    }
    String configuration =
        holds(leader.getRaftConf(), id)
            ? "the change reached the log just before, and may complete: see roost cluster status"
            : "the configuration is unchanged; is " + id + " running with --join, and not paused?";
    return new AdminException(
        StatusCode.DEADLINE_EXCEEDED,
        what + ": aborted: " + why + "; " + stepDown + "; " + configuration);
  }

  /**
   * Refuses at once an address nothing listens on, rather than staging a server that cannot answer
   * until {@link #STAGING_SILENCE_LIMIT} aborts the change.
   */
  private static void checkReachable(String id, String address) throws AdminException {
    int colon = address.lastIndexOf(':');
    try (Socket socket = new Socket()) {
      socket.connect(
          new InetSocketAddress(
              address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
          (int) CONNECT_TIMEOUT.toMillis());
    } catch (IOException | RuntimeException e) {
      throw new AdminException(
          StatusCode.DEADLINE_EXCEEDED,
          "cannot reach "
              + id
              + " at "
              + address
              + " within "
              + CONNECT_TIMEOUT.toSeconds()
              + " s ("
              + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
              + "); is it running with --join? The configuration is unchanged");
    }
  }

  /** This server's division, which must be the leader with a committed configuration. */
  private RaftServer.Division leaderDivision() throws AdminException {
    RaftServer.Division d = division();
    if (!d.getInfo().isLeader()) {
      RaftPeerId leader = d.getInfo().getLeaderId();
      throw AdminException.notLeader(
          d.getId().toString(), leader == null ? null : leader.toString());
    }
    if (!d.getRaftConf().getPreviousPeers(RaftPeerRole.FOLLOWER).isEmpty()) {
      throw inProgress();
    }
    return d;
  }

  private RaftServer.Division division() throws AdminException {
    try {
      return raft.getDivision(Peers.GROUP_ID);
    } catch (IOException e) {
      throw new AdminException(
          StatusCode.FAILED_PRECONDITION,
          raft.getId() + " is not a member of the group (yet): " + e.getMessage());
    }
  }

  /** The members of the current configuration as {@code leader} sees them. */
  List<Member> members(RaftServer.Division leader) {
    Map<String, Long> elapsed = new HashMap<>();
    for (ServerRpcProto f :
        leader.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList()) {
      elapsed.put(f.getId().getId().toStringUtf8(), f.getLastRpcElapsedTimeMs());
    }
    Map<String, Long> commits = new HashMap<>();
    for (CommitInfoProto c : leader.getCommitInfos()) {
      commits.put(c.getServer().getId().toStringUtf8(), c.getCommitIndex());
    }
    String self = leader.getId().toString();
    List<Member> out = new ArrayList<>();
    RaftConfiguration conf = leader.getRaftConf();
    for (RaftPeerRole role : List.of(RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER)) {
      for (RaftPeer p : conf.getCurrentPeers(role)) {
        String id = p.getId().toString();
        boolean alive =
            id.equals(self) || elapsed.getOrDefault(id, Long.MAX_VALUE) < aliveWindow.toMillis();
        out.add(
            new Member(
                id,
                p.getAddress(),
                role == RaftPeerRole.FOLLOWER,
                alive,
                commits.getOrDefault(id, -1L)));
      }
    }
    return out;
  }

  private static List<RaftPeer> voters(RaftServer.Division d) {
    return List.copyOf(d.getRaftConf().getCurrentPeers(RaftPeerRole.FOLLOWER));
  }

  private static AdminReply result(RaftServer.Division d, String outcome, String id) {
    return AdminReply.newBuilder()
        .setOutcome(outcome)
        .setId(id)
        .setServer(d.getId().toString())
        .setTerm(d.getInfo().getCurrentTerm())
        .setCommitIndex(d.getRaftLog().getLastCommittedIndex())
        .build();
  }

  private static AdminException noOutcome(String what, Duration timeout) {
    return new AdminException(
        StatusCode.DEADLINE_EXCEEDED,
        what + ": no outcome after " + timeout.toSeconds() + " s; see roost cluster status");
  }

  private static AdminException inProgress() {
    return new AdminException(
        StatusCode.FAILED_PRECONDITION,
        "another membership change is in progress; wait for it (roost cluster status) and retry");
  }

  private interface RatisCall {
    CompletableFuture<RaftClientReply> start() throws IOException;
  }

  /** Moves leadership to {@code to}, or, with null, steps down and lets an election choose. */
  private void moveLeadership(RaftPeerId to, String what) throws AdminException {
    RaftClientReply reply =
        await(
            call(
                () ->
                    raft.transferLeadershipAsync(
                        new TransferLeadershipRequest(
                            clientId,
                            raft.getId(),
                            Peers.GROUP_ID,
                            CallId.getAndIncrement(),
                            to,
                            SHORT_TIMEOUT.toMillis()))),
            SHORT_TIMEOUT.plusSeconds(5),
            what);
    check(reply, what);
  }

  private static CompletableFuture<RaftClientReply> call(RatisCall call) {
    try {
      return call.start();
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private RaftClientReply await(
      CompletableFuture<RaftClientReply> future, Duration timeout, String what)
      throws AdminException {
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw translate(e.getCause(), what);
    } catch (TimeoutException e) {
      throw noOutcome(what, timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AdminException(StatusCode.UNAVAILABLE, what + ": interrupted");
    }
  }

  private void check(RaftClientReply reply, String what) throws AdminException {
    if (!reply.isSuccess()) {
      throw translate(reply.getException(), what);
    }
  }

  private AdminException translate(Throwable e, String what) {
    if (e instanceof NotLeaderException nle) {
      RaftPeer suggested = nle.getSuggestedLeader();
      return AdminException.notLeader(
          raft.getId().toString(), suggested == null ? null : suggested.getId().toString());
    }
    if (e instanceof ReconfigurationInProgressException
        || (e instanceof TransferLeadershipException
            && String.valueOf(e.getMessage()).contains("reconfiguration in progress"))) {
      return inProgress();
    }
    if (e instanceof ReconfigurationTimeoutException) {
      // Ratis' staging gave up: the new server sent no answer for the staging timeout.
      LOG.warn("membership: {} failed, the configuration is unchanged: {}", what, e.getMessage());
      onAbort.run();
      return new AdminException(
          StatusCode.DEADLINE_EXCEEDED,
          what
              + ": the new server did not answer within "
              + RaftTuning.STAGING_TIMEOUT.toSeconds()
              + " s (is it running in join mode at that address?); the configuration is"
              + " unchanged");
    }
    if (e instanceof SetConfigurationException) {
      return new AdminException(StatusCode.FAILED_PRECONDITION, what + ": " + e.getMessage());
    }
    String why =
        e == null ? "unknown failure" : e.getClass().getSimpleName() + ": " + e.getMessage();
    LOG.warn("{} failed: {}", what, why);
    return new AdminException(StatusCode.UNAVAILABLE, what + " failed: " + why);
  }
}

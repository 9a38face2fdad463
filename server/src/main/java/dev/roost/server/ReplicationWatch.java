package dev.roost.server;

import dev.roost.api.Peers;
import java.io.IOException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices, on the leader, a member that answers the leader's requests but takes no entries: its
 * match index stays below the leader's last index for {@link #BOUND} while it keeps answering
 * (heartbeats included). Whatever broke (the leader's appender for it, or the exchange between
 * them), a new leader replicates to every member afresh, so the leader moves leadership to the live
 * voter that holds the most of the log. One ERROR line says so, and {@code
 * roost_raft_stuck_followers_total} counts it. A member that does not answer at all is down, not
 * stuck, and is left alone; a member that is stuck on its own side is {@link StallWatch}'s, which
 * restarts it if a new leader did not help.
 */
final class ReplicationWatch implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicationWatch.class);

  /**
   * How long a member may answer while taking nothing before leadership moves. A healthy member
   * behind the leader takes entries every heartbeat, except while it installs a snapshot, whose
   * match index moves only at the end: a 96 MB state loads in about 4 s and the largest the default
   * quotas allow is ten times that ({@link StallWatch#BOUND}), so about 40 s, and this leaves that
   * install more than twice its time. It stays below {@link StallWatch#BOUND}, so that the cheaper
   * repair, a leadership transfer (no restart, no replay), comes before the member's own watch has
   * it restarted.
   */
  static final Duration BOUND = Duration.ofSeconds(90);

  /**
   * A member that answered the leader within this counts as answering: fifteen heartbeats at the
   * default election timeouts, so a member that answers only now and then still counts.
   */
  static final Duration ANSWERING = Duration.ofSeconds(3);

  /**
   * One reading of this member while it leads.
   *
   * @param id the leader's id
   * @param term its term
   * @param lastIndex the last index of its log
   * @param voters the voters of the current configuration
   * @param members the voters and listeners of the current configuration (not a server being added)
   * @param followers what the leader knows of every server it replicates to, by id
   */
  record Reading(
      String id,
      long term,
      long lastIndex,
      Set<String> voters,
      Set<String> members,
      Map<String, FollowerProgress> followers) {

    /** Reads {@code server}'s member of the Roost group; empty unless it leads. */
    static Optional<Reading> of(RaftServer server) {
      RaftServer.Division d;
      try {
        d = server.getDivision(Peers.GROUP_ID);
      } catch (IOException e) {
        return Optional.empty(); // not (or no longer) in the group
      }
      if (!d.getInfo().isLeader()) {
        return Optional.empty();
      }
      RaftConfiguration conf = d.getRaftConf();
      return Optional.of(
          new Reading(
              d.getId().toString(),
              d.getInfo().getCurrentTerm(),
              d.getRaftLog().getNextIndex() - 1,
              ids(conf, RaftPeerRole.FOLLOWER),
              ids(conf, RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER),
              FollowerProgress.of(d)));
    }

    private static Set<String> ids(RaftConfiguration conf, RaftPeerRole... roles) {
      return Set.of(roles).stream()
          .flatMap(role -> conf.getCurrentPeers(role).stream())
          .map(RaftPeer::getId)
          .map(Object::toString)
          .collect(Collectors.toSet());
    }
  }

  /** Moves leadership. */
  interface Handover {
    /** Makes {@code to} the leader; throws when it could not. */
    void transfer(String to) throws AdminException;
  }

  /** A member's match index and since when it has stood there. */
  private record Still(long matchIndex, long sinceMs, boolean repaired) {}

  private final Supplier<Optional<Reading>> leader;
  private final LongSupplier nowMs;
  private final Handover handover;
  private final Runnable onStuck;
  private final Map<String, Still> still = new HashMap<>();
  private long term = -1;
  // Not guarded by this object's lock: close must not wait for a sample that is moving leadership.
  private volatile ScheduledExecutorService poller;

  /**
   * @param leader reads this member while it leads; empty otherwise
   * @param nowMs a monotonic clock in milliseconds
   * @param handover moves leadership away from this member
   * @param onStuck called once for each stuck member found
   */
  ReplicationWatch(
      Supplier<Optional<Reading>> leader, LongSupplier nowMs, Handover handover, Runnable onStuck) {
    this.leader = leader;
    this.nowMs = nowMs;
    this.handover = handover;
    this.onStuck = onStuck;
  }

  /** Reads this member once a second from now on. */
  synchronized void start() {
    poller =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("roost-replication-watch"));
    poller.scheduleWithFixedDelay(
        () -> {
          try {
            sample();
          } catch (RuntimeException e) {
            // A scheduled task that throws is never run again: keep watching.
            LOG.warn("reading the followers' progress failed: {}", e.toString());
          }
        },
        1,
        1,
        TimeUnit.SECONDS);
  }

  /**
   * Reads this member and repairs a member found stuck, once per episode: an episode ends when the
   * member takes an entry, catches up, stops answering, or leadership changes. The poller calls it,
   * and tests.
   */
  synchronized void sample() {
    long now = nowMs.getAsLong();
    Optional<Reading> reading = leader.get();
    long readTerm = reading.map(Reading::term).orElse(-1L);
    if (readTerm != term) {
      // A new leadership has new appenders: nothing seen under the old one counts.
      still.clear();
      term = readTerm;
    }
    if (reading.isEmpty()) {
      return;
    }
    Reading r = reading.get();
    still.keySet().retainAll(r.followers().keySet());
    for (FollowerProgress f : r.followers().values()) {
      if (!r.members().contains(f.id())) {
        continue; // a server being added: ClusterAdmin bounds its staging
      }
      Still s = still.get(f.id());
      boolean behindAndAnswering =
          f.matchIndex() < r.lastIndex() && f.lastAnswerMs() <= ANSWERING.toMillis();
      if (!behindAndAnswering || s == null || s.matchIndex() != f.matchIndex()) {
        still.put(f.id(), new Still(f.matchIndex(), now, false));
      } else if (!s.repaired() && now - s.sinceMs() >= BOUND.toMillis()) {
        still.put(f.id(), new Still(s.matchIndex(), s.sinceMs(), true));
        repair(r, f, now - s.sinceMs());
      }
    }
  }

  private void repair(Reading r, FollowerProgress stuck, long stillMs) {
    onStuck.run();
    Optional<FollowerProgress> successor =
        r.followers().values().stream()
            .filter(f -> r.voters().contains(f.id()) && !f.id().equals(stuck.id()))
            .filter(f -> f.lastAnswerMs() <= ANSWERING.toMillis())
            .max(Comparator.comparingLong(FollowerProgress::matchIndex));
    LOG.error(
        "{}: member {} answers but has taken no entries for {} s: match index {} of last index {}"
            + " (term {}); {}",
        r.id(),
        stuck.id(),
        stillMs / 1000,
        stuck.matchIndex(),
        r.lastIndex(),
        r.term(),
        successor
            .map(s -> "moving leadership to " + s.id() + " so that a new leader replicates afresh")
            .orElse("no other live voter can take over; restart " + stuck.id()));
    if (successor.isPresent()) {
      try {
        handover.transfer(successor.get().id());
      } catch (AdminException e) {
        LOG.warn(
            "{}: could not move leadership to {} (term {}): {}",
            r.id(),
            successor.get().id(),
            r.term(),
            e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    if (poller != null) {
      poller.shutdownNow();
    }
  }
}

package dev.roost.client;

import com.google.protobuf.UnsafeByteOperations;
import dev.roost.api.Peers;
import dev.roost.proto.GatewayReply;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real {@link Transport}: one Ratis {@link RaftClient} over gRPC, used only through its
 * blocking {@link RaftClient#io() io()} API (see {@link ClientRetry} for why not {@code async()}).
 *
 * <p><b>Membership.</b> Ratis' client refreshes its peer list only from a {@code
 * NotLeaderException}, so a client that keeps talking to one leader while the other members are
 * replaced would be left with a list of dead servers the moment that leader goes. Every successful
 * reply carries the members of the current configuration with their addresses (a Ratis reply's
 * {@link RaftClientReply#getCommitInfos() commit infos}, the gateway's {@code members}); when that
 * set of members differs from the client's list, the transport builds new Ratis clients for the new
 * list, with the same client id (so request ids and the servers' retry cache still match) and the
 * same retry policy, starting at the server that answered. Calls already running finish on the old
 * clients, which are closed once no call can still be using them (twice the deadline later).
 */
final class RatisTransport implements Transport {
  private static final Logger LOG = LoggerFactory.getLogger(RatisTransport.class);

  /** The two Ratis clients for one peer list. */
  private record Clients(RaftClient raft, RaftClient oneShot, List<RaftPeerId> members) {
    void close() {
      try {
        oneShot.close();
        raft.close();
      } catch (IOException e) {
        LOG.warn("closing the Ratis client failed", e);
      }
    }
  }

  private final ClientId clientId = ClientId.randomId();
  private final RetryPolicy retryPolicy;
  private final RaftProperties properties = new RaftProperties();
  private final Tls tls;
  private final Duration retireAfter;
  private final AtomicReference<Clients> clients = new AtomicReference<>();
  private final Map<RaftPeerId, String> addresses = new ConcurrentHashMap<>();
  private final GatewayClient gateway;
  private volatile boolean gatewayUnsupported;

  /**
   * @param retireAfter how long clients replaced after a membership change stay open for the calls
   *     still using them
   * @param writeGateway whether to send writes to the leader's write gateway
   * @param tls how to reach the servers' client ports
   */
  RatisTransport(
      List<RaftPeer> peers,
      RetryPolicy retryPolicy,
      TimeDuration attemptTimeout,
      Duration retireAfter,
      boolean writeGateway,
      Tls tls) {
    RaftClientConfigKeys.Rpc.setRequestTimeout(properties, attemptTimeout);
    this.retryPolicy = retryPolicy;
    this.retireAfter = retireAfter;
    this.tls = tls;
    this.gateway = writeGateway ? new GatewayClient(attemptTimeout, tls) : null;
    peers.forEach(p -> addresses.put(p.getId(), Peers.clientAddress(p)));
    clients.set(build(peers, null));
  }

  private Clients build(List<RaftPeer> peers, RaftPeerId leader) {
    RaftClient.Builder raft =
        RaftClient.newBuilder()
            .setClientId(clientId)
            .setRaftGroup(Peers.group(peers))
            .setProperties(properties)
            .setParameters(tls.raftParameters())
            .setRetryPolicy(retryPolicy);
    if (leader != null) {
      raft.setLeaderId(leader);
    }
    // Reads addressed to one member must not be retried against that member until the deadline:
    // the caller moves on to another member instead.
    RaftClient oneShot =
        RaftClient.newBuilder()
            .setRaftGroup(Peers.group(peers))
            .setProperties(properties)
            .setParameters(tls.raftParameters())
            .setRetryPolicy(RetryPolicies.noRetry())
            .build();
    return new Clients(raft.build(), oneShot, peers.stream().map(RaftPeer::getId).toList());
  }

  /**
   * One attempt at the write gateway of the member Ratis takes for the leader. An answered write
   * teaches the membership as a Ratis reply does. An attempt that got no answer in time makes the
   * Ratis client start from the next member, as Ratis does after its own attempt times out.
   */
  @Override
  public GatewayReply submitToGateway(Message command) throws IOException {
    if (gateway == null || gatewayUnsupported) {
      return null;
    }
    Clients current = clients.get();
    RaftPeerId leader = current.raft().getLeaderId();
    String address = leader == null ? "" : addressOf(leader);
    if (address.isEmpty()) {
      return null;
    }
    try {
      GatewayReply reply = gateway.submit(address, command);
      if (reply.getOutcome() == GatewayReply.Outcome.ANSWERED) {
        learn(reply);
      }
      return reply;
    } catch (GatewayClient.Unsupported e) {
      LOG.info("{}; sending writes as Ratis requests", e.getMessage());
      gatewayUnsupported = true;
      return null;
    } catch (IOException e) {
      // Not when the call's own deadline interrupted the attempt: that says nothing of the leader.
      if (ClientRetry.classify(e) == ClientRetry.Outcome.LOST
          && !Thread.currentThread().isInterrupted()) {
        startAfter(current, leader);
      }
      throw e;
    }
  }

  @Override
  public Answer write(Message command) throws IOException {
    return answer(learn(clients.get().raft().io().send(command)));
  }

  /**
   * A member that cannot serve the read now is left for the next one: Ratis' client would address
   * it again (see {@link ClientRetry}).
   */
  @Override
  public Answer read(Message query) throws IOException {
    Clients current = clients.get();
    try {
      return answer(learn(current.raft().io().sendReadOnly(query)));
    } catch (IOException e) {
      ReadException refused = readRefusal(e);
      if (refused == null) {
        throw e;
      }
      startAfter(current, current.raft().getLeaderId());
      throw refused;
    }
  }

  /**
   * The {@link ReadException} a failed blocking call ended with: Ratis throws it as is when the
   * first attempt failed with it, wrapped when earlier attempts had failed otherwise; or null.
   */
  static ReadException readRefusal(IOException failure) {
    if (failure instanceof ReadException refused) {
      return refused;
    }
    if (failure instanceof RaftRetryFailureException
        && failure.getCause() instanceof ReadException refused) {
      return refused;
    }
    return null;
  }

  @Override
  public Answer readFrom(RaftPeerId member, Message query, long minIndex) throws IOException {
    RaftClientReply reply = clients.get().oneShot().io().sendStaleRead(query, minIndex, member);
    if (!reply.isSuccess()) {
      throw reply.getException() != null
          ? reply.getException()
          : new IOException(member + " did not serve the read");
    }
    return answer(reply);
  }

  private static Answer answer(RaftClientReply reply) {
    Message message = reply.getMessage();
    return new Answer(
        reply.getServerId(),
        message == null
            ? null
            : UnsafeByteOperations.unsafeWrap(message.getContent().asReadOnlyByteBuffer()));
  }

  @Override
  public List<RaftPeerId> members() {
    return clients.get().members();
  }

  @Override
  public RaftPeerId currentLeader() {
    return clients.get().raft().getLeaderId();
  }

  /** From the members' commit infos of a reply: addresses are learned from every reply. */
  @Override
  public String addressOf(RaftPeerId peer) {
    return addresses.getOrDefault(peer, "");
  }

  /** Learns the membership from a Ratis reply; see {@link #learn(RaftPeerId, List)}. */
  private RaftClientReply learn(RaftClientReply reply) {
    if (reply == null || !reply.isSuccess() || reply.getCommitInfos().isEmpty()) {
      return reply;
    }
    List<RaftPeer> members = new ArrayList<>(reply.getCommitInfos().size());
    for (CommitInfoProto info : reply.getCommitInfos()) {
      members.add(
          RaftPeer.newBuilder()
              .setId(RaftPeerId.valueOf(info.getServer().getId()))
              .setAddress(info.getServer().getAddress())
              .setClientAddress(info.getServer().getClientAddress())
              .build());
    }
    learn(reply.getServerId(), members);
    return reply;
  }

  /** Learns the membership from the gateway's answer; see {@link #learn(RaftPeerId, List)}. */
  private void learn(GatewayReply reply) {
    if (reply.getMembersCount() == 0) {
      return;
    }
    List<RaftPeer> members = new ArrayList<>(reply.getMembersCount());
    for (GatewayReply.Member member : reply.getMembersList()) {
      members.add(
          RaftPeer.newBuilder()
              .setId(member.getId())
              .setAddress(member.getAddress())
              .setClientAddress(member.getClientAddress())
              .build());
    }
    learn(RaftPeerId.valueOf(reply.getServerId()), members);
  }

  /**
   * Notes the members' addresses, and switches to new clients, starting at {@code server}, when the
   * members that {@code server} reports differ from the client's.
   */
  private void learn(RaftPeerId server, List<RaftPeer> members) {
    Map<RaftPeerId, RaftPeer> current = new LinkedHashMap<>();
    for (RaftPeer peer : members) {
      current.put(peer.getId(), peer);
      addresses.put(peer.getId(), Peers.clientAddress(peer));
    }
    Clients old = clients.get();
    if (!current.containsKey(server) || current.keySet().equals(Set.copyOf(old.members()))) {
      return;
    }
    if (replace(old, build(List.copyOf(current.values()), server))) {
      LOG.info("membership changed: now {} (was {})", current.keySet(), old.members());
    }
  }

  /** Replaces {@code current} by Ratis clients starting from the member after {@code suspect}. */
  private void startAfter(Clients current, RaftPeerId suspect) {
    List<RaftPeerId> members = current.members();
    int at = members.indexOf(suspect);
    if (members.size() < 2 || at < 0) {
      return;
    }
    List<RaftPeer> peers =
        members.stream()
            .map(id -> RaftPeer.newBuilder().setId(id).setAddress(addresses.get(id)).build())
            .toList();
    replace(current, build(peers, members.get((at + 1) % members.size())));
  }

  /**
   * Installs {@code fresh} in place of {@code old}, which stays open for the calls still using it
   * and is closed later; false (and {@code fresh} closed) if another thread replaced {@code old}
   * first.
   */
  private boolean replace(Clients old, Clients fresh) {
    if (!clients.compareAndSet(old, fresh)) {
      fresh.close();
      return false;
    }
    CompletableFuture.delayedExecutor(retireAfter.toMillis(), TimeUnit.MILLISECONDS)
        .execute(old::close);
    return true;
  }

  @Override
  public void close() {
    if (gateway != null) {
      gateway.close();
    }
    clients.get().close();
  }
}

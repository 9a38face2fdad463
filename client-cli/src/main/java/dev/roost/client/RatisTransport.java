package dev.roost.client;

import dev.roost.statemachine.Peers;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real {@link Transport}: one Ratis {@link RaftClient} over gRPC, used only through its
 * blocking {@link RaftClient#io() io()} API (see {@link ClientRetry} for why not {@code async()}).
 */
final class RatisTransport implements Transport {
  private static final Logger LOG = LoggerFactory.getLogger(RatisTransport.class);

  private final RaftClient raft;
  private final RaftClient oneShot;
  private final List<RaftPeerId> members;
  private final Map<RaftPeerId, String> addresses = new ConcurrentHashMap<>();

  RatisTransport(List<RaftPeer> peers, RetryPolicy retryPolicy, TimeDuration attemptTimeout) {
    RaftProperties properties = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(properties, attemptTimeout);
    peers.forEach(p -> addresses.put(p.getId(), p.getAddress()));
    this.raft =
        RaftClient.newBuilder()
            .setClientId(ClientId.randomId())
            .setRaftGroup(Peers.group(peers))
            .setProperties(properties)
            .setRetryPolicy(retryPolicy)
            .build();
    // Reads addressed to one member must not be retried against that member until the deadline:
    // the caller moves on to another member instead.
    this.oneShot =
        RaftClient.newBuilder()
            .setRaftGroup(Peers.group(peers))
            .setProperties(properties)
            .setRetryPolicy(RetryPolicies.noRetry())
            .build();
    this.members = peers.stream().map(RaftPeer::getId).toList();
  }

  @Override
  public String clientId() {
    return raft.getId().getUuid().toString();
  }

  @Override
  public RaftClientReply write(Message command) throws IOException {
    return raft.io().send(command);
  }

  @Override
  public RaftClientReply read(Message query) throws IOException {
    return raft.io().sendReadOnly(query);
  }

  @Override
  public RaftClientReply readFrom(RaftPeerId member, Message query, long minIndex)
      throws IOException {
    return oneShot.io().sendStaleRead(query, minIndex, member);
  }

  @Override
  public List<RaftPeerId> members() {
    return members;
  }

  @Override
  public RaftPeerId currentLeader() {
    return raft.getLeaderId();
  }

  /**
   * Peers outside the client's list (the client may be given any subset of the group) are looked up
   * once with a group-info request to that peer; Ratis reached it through the peer list a
   * NotLeaderException carried, which it does not expose.
   */
  @Override
  public String addressOf(RaftPeerId peer) {
    String known = addresses.get(peer);
    if (known != null) {
      return known;
    }
    try {
      raft.getGroupManagementApi(peer)
          .info(Peers.GROUP_ID)
          .getGroup()
          .getPeers()
          .forEach(p -> addresses.put(p.getId(), p.getAddress()));
    } catch (IOException | RuntimeException e) {
      LOG.debug("could not learn the address of {}", peer, e);
    }
    return addresses.getOrDefault(peer, "");
  }

  @Override
  public void close() {
    try {
      oneShot.close();
      raft.close();
    } catch (IOException e) {
      LOG.warn("closing the Ratis client failed", e);
    }
  }
}

package dev.roost.server;

import dev.roost.api.Peers;
import dev.roost.proto.GetUser;
import dev.roost.proto.Query;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.util.TimeDuration;

/**
 * Refuses to start a member whose disk was lost. A member that comes back under its old id with an
 * empty log has forgotten its vote and the entries it acknowledged: it would vote for a candidate
 * that lacks them, and one more failure could then lose acknowledged writes. Raft assumes stable
 * storage; this check turns its loss from a silent danger into a refusal with the way out.
 *
 * <p>Only a member with no Raft state at all is checked (not one started with {@code --join}, which
 * expects to be empty): it asks the other peers, with a cheap stale read, for the commit indexes
 * they know of, which Ratis sends with every reply (a leader knows each follower's, and passes them
 * on to the followers). If any peer knows this member had committed past index 0, its disk was
 * lost. A first bootstrap passes: no peer knows it yet, or none is reachable. The check is only as
 * good as the peers' memory: after the whole cluster restarted, nobody may remember.
 */
final class LostDiskGuard {
  private static final TimeDuration ASK_TIMEOUT = TimeDuration.valueOf(3, TimeUnit.SECONDS);

  private LostDiskGuard() {}

  /**
   * @throws ConfigException if this member's storage holds no Raft state but a peer knows it had
   *     committed entries
   */
  static void check(ServerConfig config) throws ConfigException {
    if (config.join() || hasRaftState(config.tuning().storageDir())) {
      return;
    }
    Optional<String> refusal = refusal(config.id(), askPeers(config));
    if (refusal.isPresent()) {
      throw new ConfigException(
          refusal.get()
              + " (data directory "
              + config.dataDir()
              + "); starting with an empty log could lose acknowledged writes. Replace the member:"
              + " `roost cluster remove "
              + config.id()
              + "`, then start it with --join and run `roost cluster add "
              + config.id()
              + " "
              + config.self().getAddress()
              + "` (docs/operations.md#membership-and-administration)");
    }
  }

  /** Whether Ratis has ever formatted the Roost group's storage under {@code storageDir}. */
  static boolean hasRaftState(Path storageDir) {
    return Files.exists(storageDir.resolve(Peers.GROUP_ID.getUuid().toString()).resolve("current"));
  }

  /**
   * Why {@code self} must not start, given the commit index each peer knows it had reached (peers
   * that know nothing of it are absent): empty if none knows of any.
   */
  static Optional<String> refusal(String self, Map<String, Long> knownCommitByPeer) {
    return knownCommitByPeer.entrySet().stream()
        .filter(e -> e.getValue() > 0)
        .max(Map.Entry.comparingByValue())
        .map(
            e ->
                self
                    + " holds no Raft state, but "
                    + e.getKey()
                    + " knows it had committed up to index "
                    + e.getValue()
                    + ": its disk was lost");
  }

  /** The commit index of this member as each reachable peer knows it. */
  private static Map<String, Long> askPeers(ServerConfig config) {
    RaftProperties properties = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(properties, ASK_TIMEOUT);
    Message probe =
        Message.valueOf(
            org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(
                Query.newBuilder()
                    .setGetUser(GetUser.newBuilder().setHandle("lost_disk_check"))
                    .build()
                    .toByteArray()));
    Map<String, Long> known = new TreeMap<>();
    try (RaftClient client =
        RaftClient.newBuilder()
            .setRaftGroup(Peers.group(config.peers()))
            .setProperties(properties)
            .setParameters(
                TlsFiles.raftClientParameters(config.tls() == null ? null : config.tls().ca()))
            .setRetryPolicy(RetryPolicies.noRetry())
            .build()) {
      for (RaftPeer peer : config.peers()) {
        if (peer.getId().toString().equals(config.id())) {
          continue;
        }
        try {
          RaftClientReply reply = client.io().sendStaleRead(probe, 0, peer.getId());
          for (CommitInfoProto info : reply.getCommitInfos()) {
            if (info.getServer().getId().toStringUtf8().equals(config.id())) {
              known.merge(peer.getId().toString(), info.getCommitIndex(), Math::max);
            }
          }
        } catch (IOException | RuntimeException unreachable) {
          // Down or not started yet (a first bootstrap): it knows nothing we can use.
        }
      }
    } catch (IOException e) {
      // Closing the client failed; what was learnt stands.
    }
    return known;
  }
}

package dev.roost.client;

import dev.roost.proto.GetStateDigest;
import dev.roost.proto.Query;
import dev.roost.proto.Reply;
import dev.roost.proto.StateDigest;
import dev.roost.proto.StatusCode;
import dev.roost.statemachine.Peers;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * The view of each member of a Roost cluster, asked of each member directly (Ratis' group info), so
 * that it works with any member down and shows what each one believes.
 */
public final class ClusterStatus {
  private ClusterStatus() {}

  /**
   * What one member reports. Members that did not answer have {@code reachable == false} and their
   * other fields unset.
   *
   * @param id the member's id
   * @param address its Raft address
   * @param reachable whether it answered
   * @param role LEADER, FOLLOWER, CANDIDATE or LISTENER
   * @param term the leader's current term for a leader; for the others, the term of their last log
   *     entry
   * @param leader the leader this member follows ("" when it knows none)
   * @param commitIndex its commit index
   * @param appliedIndex the last index its state machine applied
   * @param snapshotIndex the index of its latest snapshot (-1 if none)
   * @param lastContactMs for a follower, milliseconds since it heard from the leader; -1 otherwise
   * @param error why it did not answer
   */
  public record Member(
      String id,
      String address,
      boolean reachable,
      String role,
      long term,
      String leader,
      long commitIndex,
      long appliedIndex,
      long snapshotIndex,
      long lastContactMs,
      String error) {

    /** How far this member's applied index is behind the leader's commit index. */
    public long lagBehind(long leaderCommitIndex) {
      return reachable ? Math.max(0, leaderCommitIndex - appliedIndex) : -1;
    }
  }

  /** Asks every peer of {@code peersSpec} for its view, each within {@code timeout}. */
  public static List<Member> fetch(String peersSpec, Duration timeout) {
    List<RaftPeer> peers = Peers.parse(peersSpec);
    RaftProperties properties = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        properties, TimeDuration.valueOf(timeout.toMillis(), TimeUnit.MILLISECONDS));
    List<Member> members = new ArrayList<>();
    try (RaftClient client =
        RaftClient.newBuilder()
            .setRaftGroup(Peers.group(peers))
            .setProperties(properties)
            .setRetryPolicy(RetryPolicies.noRetry())
            .build()) {
      for (RaftPeer peer : peers) {
        members.add(ask(client, peer));
      }
    } catch (IOException e) {
      throw new RoostException(StatusCode.INTERNAL, "cannot close the status client: " + e, false);
    }
    return members;
  }

  /**
   * The state digest of one member, read from that member's own state (a stale read: it may trail
   * the leader). Comparing digests of members that applied the same index shows whether they hold
   * the same state.
   *
   * @throws RoostException with UNAVAILABLE if the member does not answer
   */
  public static StateDigest digest(String peersSpec, String peerId, Duration timeout) {
    RaftProperties properties = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        properties, TimeDuration.valueOf(timeout.toMillis(), TimeUnit.MILLISECONDS));
    Query query = Query.newBuilder().setGetStateDigest(GetStateDigest.getDefaultInstance()).build();
    try (RaftClient client =
        RaftClient.newBuilder()
            .setRaftGroup(Peers.group(Peers.parse(peersSpec)))
            .setProperties(properties)
            .setRetryPolicy(RetryPolicies.noRetry())
            .build()) {
      RaftClientReply reply =
          client
              .io()
              .sendStaleRead(
                  Message.valueOf(ByteString.copyFrom(query.toByteArray())),
                  0,
                  RaftPeerId.valueOf(peerId));
      return Reply.parseFrom(reply.getMessage().getContent().toByteArray()).getStateDigest();
    } catch (IOException e) {
      throw new RoostException(
          StatusCode.UNAVAILABLE, peerId + " did not answer: " + e.getMessage(), false);
    }
  }

  private static Member ask(RaftClient client, RaftPeer peer) {
    String id = peer.getId().toString();
    try {
      GroupInfoReply info = client.getGroupManagementApi(peer.getId()).info(Peers.GROUP_ID);
      RoleInfoProto role = info.getRoleInfoProto();
      var log = info.getLogInfoProto();
      String leader = "";
      long lastContact = -1;
      long term = log.getLastEntry().getTerm();
      if (role.hasLeaderInfo()) {
        leader = id;
        term = role.getLeaderInfo().getTerm();
      } else if (role.hasFollowerInfo()) {
        leader = role.getFollowerInfo().getLeaderInfo().getId().getId().toStringUtf8();
        lastContact = role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs();
      }
      return new Member(
          id,
          peer.getAddress(),
          true,
          role.getRole().name(),
          term,
          leader,
          log.getCommitted().getIndex(),
          log.getApplied().getIndex(),
          log.hasLastSnapshot() ? log.getLastSnapshot().getIndex() : -1,
          lastContact,
          "");
    } catch (IOException | RuntimeException e) {
      String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      return new Member(id, peer.getAddress(), false, "", -1, "", -1, -1, -1, -1, why);
    }
  }
}

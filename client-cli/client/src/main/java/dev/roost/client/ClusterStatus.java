package dev.roost.client;

import dev.roost.api.Peers;
import dev.roost.proto.ClusterMember;
import dev.roost.proto.ClusterStatusReport;
import dev.roost.proto.GetStateDigest;
import dev.roost.proto.MemberProgress;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.Peer;
import dev.roost.proto.Query;
import dev.roost.proto.Reply;
import dev.roost.proto.Role;
import dev.roost.proto.StateDigest;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * The view of each member of a Roost cluster, from each member's public {@code /status} on its HTTP
 * endpoint, so that it works with any member down, shows what each one believes, and needs no admin
 * access (Ratis' group-info call is an admin RPC, which Roost servers refuse). Members whose
 * endpoint is not known or does not answer are shown as the leader sees them.
 */
public final class ClusterStatus {
  private ClusterStatus() {}

  /**
   * Asks every HTTP endpoint in {@code httpEndpoints} for its member's view, each within {@code
   * timeout}, and assembles the group: the leader's configuration (else the union of the peers the
   * members that answered list), each member as it reports itself or, when it did not answer, as
   * the leader sees it; then endpoints that answered without being members ({@code NOT_MEMBER});
   * with no configuration known at all, one entry per endpoint that did not answer.
   */
  public static ClusterStatusReport fetch(List<String> httpEndpoints, Tls tls, Duration timeout) {
    List<AdminClient.EndpointStatus> statuses =
        new AdminClient(httpEndpoints, tls, null, timeout).statuses();
    Map<String, MemberStatus> byId = new LinkedHashMap<>();
    MemberStatus leader = null;
    for (AdminClient.EndpointStatus s : statuses) {
      if (s.status().isPresent()) {
        MemberStatus status = s.status().get();
        byId.put(status.getId(), status);
        if (s.leads() && (leader == null || status.getTerm() > leader.getTerm())) {
          leader = status;
        }
      }
    }
    Map<String, MemberProgress> views = new TreeMap<>();
    // Every member's peer and client address, as a Peer.
    Map<String, Peer> addresses = new TreeMap<>();
    if (leader != null) {
      for (MemberProgress m : leader.getMembersList()) {
        views.put(m.getId(), m);
        addresses.put(
            m.getId(),
            Peer.newBuilder()
                .setId(m.getId())
                .setAddress(m.getAddress())
                .setClientAddress(m.getClientAddress())
                .build());
      }
    } else {
      for (MemberStatus s : byId.values()) {
        for (Peer p : s.getPeersList()) {
          addresses.putIfAbsent(p.getId(), p);
        }
      }
    }
    long leaderCommit = leader == null ? -1 : leader.getCommitIndex();
    ClusterStatusReport.Builder report = ClusterStatusReport.newBuilder();
    for (Map.Entry<String, Peer> e : addresses.entrySet()) {
      MemberStatus own = byId.remove(e.getKey());
      if (own != null) {
        report.addMembers(reachable(own, e.getValue(), roleName(own.getRole()), leaderCommit));
      } else {
        MemberProgress view = views.get(e.getKey());
        report.addMembers(
            ClusterMember.newBuilder()
                .setId(e.getKey())
                .setAddress(e.getValue().getAddress())
                .setClientAddress(e.getValue().getClientAddress())
                .setReachable(false)
                .setRole(view == null ? "" : roleName(view.getRole()))
                .setCommitIndex(view == null ? -1 : view.getCommitIndex())
                .setLastContactMs(view == null ? -1 : view.getLastContactMs())
                .setError("its HTTP endpoint is unknown or did not answer"));
      }
    }
    for (MemberStatus rest : byId.values()) {
      report.addMembers(
          reachable(
              rest,
              Peer.newBuilder()
                  .setAddress(rest.getAddress())
                  .setClientAddress(rest.getClientAddress())
                  .build(),
              "NOT_MEMBER",
              leaderCommit));
    }
    for (AdminClient.EndpointStatus s : statuses) {
      if (s.status().isEmpty() && addresses.isEmpty()) {
        report.addMembers(
            ClusterMember.newBuilder()
                .setId("?")
                .setAddress(s.endpoint())
                .setReachable(false)
                .setRole("")
                .setCommitIndex(-1)
                .setLastContactMs(-1)
                .setError(s.error()));
      }
    }
    return report.build();
  }

  private static ClusterMember reachable(
      MemberStatus s, Peer addresses, String role, long leaderCommit) {
    return ClusterMember.newBuilder()
        .setId(s.getId())
        .setAddress(addresses.getAddress())
        .setClientAddress(addresses.getClientAddress())
        .setTlsExpiresMs(s.getTlsExpiresMs())
        .setReachable(true)
        .setRole(role)
        .setCommitIndex(s.getCommitIndex())
        .setLastContactMs(s.getLastContactMs())
        .setTerm(s.getTerm())
        .setLeader(s.getLeader())
        .setAppliedIndex(s.getAppliedIndex())
        .setSnapshotIndex(s.getSnapshotIndex())
        .setLag(leaderCommit < 0 ? -1 : Math.max(0, leaderCommit - s.getAppliedIndex()))
        .build();
  }

  /** A role as {@link ClusterMember#getRole} shows it: its name, "" when unknown. */
  private static String roleName(Role role) {
    return role == Role.ROLE_UNSPECIFIED || role == Role.UNRECOGNIZED ? "" : role.name();
  }

  /**
   * The state digest of one member, read from that member's own state (a stale read: it may trail
   * the leader). Comparing digests of members that applied the same index shows whether they hold
   * the same state.
   *
   * @throws RoostException with UNAVAILABLE if the member does not answer
   */
  public static StateDigest digest(String peersSpec, Tls tls, String peerId, Duration timeout) {
    RaftProperties properties = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        properties, TimeDuration.valueOf(timeout.toMillis(), TimeUnit.MILLISECONDS));
    Query query = Query.newBuilder().setGetStateDigest(GetStateDigest.getDefaultInstance()).build();
    try (RaftClient client =
        RaftClient.newBuilder()
            .setRaftGroup(Peers.group(Peers.parse(peersSpec)))
            .setProperties(properties)
            .setParameters(tls.raftParameters())
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
}

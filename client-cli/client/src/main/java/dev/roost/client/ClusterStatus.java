package dev.roost.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.roost.api.Peers;
import dev.roost.proto.GetStateDigest;
import dev.roost.proto.Query;
import dev.roost.proto.Reply;
import dev.roost.proto.StateDigest;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
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
   * What one member reports. Members that did not answer have {@code reachable == false}, the
   * leader's view of them where it has one, and -1 elsewhere.
   *
   * @param id the member's id
   * @param address its Raft address
   * @param reachable whether it answered
   * @param role LEADER, FOLLOWER, CANDIDATE or LISTENER; NOT_MEMBER for an endpoint that answers
   *     but is not in the configuration (a server waiting to be added, or one removed)
   * @param term its current term
   * @param leader the leader this member follows ("" when it knows none)
   * @param commitIndex its commit index
   * @param appliedIndex the last index its state machine applied
   * @param snapshotIndex the index of its latest snapshot (-1 if none)
   * @param lastContactMs milliseconds since it last heard from the leader (0 for the leader), or
   *     since it last answered the leader when it did not answer us; -1 when unknown
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

  /**
   * Asks every HTTP endpoint in {@code httpEndpoints} for its member's view, each within {@code
   * timeout}.
   */
  public static List<Member> fetch(List<String> httpEndpoints, Duration timeout) {
    List<AdminClient.EndpointStatus> statuses =
        new AdminClient(httpEndpoints, null, timeout).statuses();
    Map<String, JsonNode> byId = new LinkedHashMap<>();
    JsonNode leader = null;
    for (AdminClient.EndpointStatus s : statuses) {
      if (s.status() != null) {
        byId.put(s.id(), s.status());
        if (s.leads()
            && (leader == null
                || s.status().path("term").asLong() > leader.path("term").asLong())) {
          leader = s.status();
        }
      }
    }
    // The configuration: the leader's, else the union of what the members that answered list.
    Map<String, JsonNode> views = new TreeMap<>();
    Map<String, String> addresses = new TreeMap<>();
    if (leader != null) {
      for (JsonNode m : leader.path("members")) {
        views.put(m.path("id").asText(), m);
        addresses.put(m.path("id").asText(), m.path("address").asText());
      }
    } else {
      for (JsonNode s : byId.values()) {
        for (JsonNode p : s.path("peers")) {
          addresses.putIfAbsent(p.path("id").asText(), p.path("address").asText());
        }
      }
    }
    List<Member> members = new ArrayList<>();
    for (Map.Entry<String, String> e : addresses.entrySet()) {
      JsonNode own = byId.remove(e.getKey());
      if (own != null) {
        members.add(fromStatus(own, e.getValue(), own.path("role").asText()));
      } else {
        JsonNode view = views.get(e.getKey());
        members.add(
            new Member(
                e.getKey(),
                e.getValue(),
                false,
                view == null ? "" : view.path("role").asText(),
                -1,
                "",
                view == null ? -1 : view.path("commitIndex").asLong(-1),
                -1,
                -1,
                view == null ? -1 : view.path("lastContactMs").asLong(-1),
                "its HTTP endpoint is unknown or did not answer"));
      }
    }
    for (JsonNode rest : byId.values()) {
      members.add(fromStatus(rest, rest.path("address").asText(""), "NOT_MEMBER"));
    }
    for (AdminClient.EndpointStatus s : statuses) {
      if (s.status() == null && addresses.isEmpty()) {
        members.add(new Member("?", s.endpoint(), false, "", -1, "", -1, -1, -1, -1, s.error()));
      }
    }
    return members;
  }

  private static Member fromStatus(JsonNode s, String address, String role) {
    String leader = s.path("leader").isNull() ? "" : s.path("leader").asText("");
    return new Member(
        s.path("id").asText(),
        address,
        true,
        role,
        s.path("term").asLong(),
        leader,
        s.path("commitIndex").asLong(),
        s.path("appliedIndex").asLong(),
        s.path("snapshotIndex").asLong(-1),
        s.path("lastContactMs").asLong(-1),
        "");
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
}

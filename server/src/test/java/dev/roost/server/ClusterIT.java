package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.roost.api.Peers;
import dev.roost.proto.Command;
import dev.roost.proto.GatewayReply;
import dev.roost.proto.GetStateDigest;
import dev.roost.proto.KvPut;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.Query;
import dev.roost.proto.RegisterUser;
import dev.roost.proto.Reply;
import dev.roost.proto.RequestId;
import dev.roost.proto.Role;
import dev.roost.testkit.LoopbackPorts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real roost-server processes on loopback: election, readiness, status, Ratis admin RPCs
 * refused, the write gateway, bad starts, a lost disk, a leader whose clock runs ahead.
 */
class ClusterIT {
  private static final Duration STARTUP = Duration.ofSeconds(60);
  private static final long YEAR_MS = 365L * 24 * 3600 * 1000;

  @TempDir Path dir;

  private final List<ServerProcess> started = new ArrayList<>();

  @AfterEach
  void killEveryServerThisTestStarted() throws InterruptedException {
    for (ServerProcess p : started) {
      p.close();
    }
  }

  private ServerProcess start(String id, String peers, int httpPort) {
    ServerProcess p = ServerProcess.start(id, peers, dir.resolve(id), httpPort);
    started.add(p);
    return p;
  }

  @Test
  void aThreeNodeClusterElectsOneLeaderAndEveryMemberBecomesReady() throws Exception {
    int[] raftPorts = IntStream.range(0, 3).map(i -> LoopbackPorts.one()).toArray();
    int[] clientPorts = IntStream.range(0, 3).map(i -> LoopbackPorts.one()).toArray();
    int[] httpPorts = IntStream.range(0, 3).map(i -> LoopbackPorts.one()).toArray();
    String peers = peers(raftPorts, clientPorts);
    List<ServerProcess> nodes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      nodes.add(start("n" + (i + 1), peers, httpPorts[i]));
    }

    // Every member answers /ready with 200 once a leader is elected and it has applied the
    // leader's commit index.
    await()
        .atMost(STARTUP)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> nodes.stream().allMatch(ServerProcess::isReady));

    // /status agrees across the members: one leader, one term, the same three peers.
    List<MemberStatus> statuses = new ArrayList<>();
    for (ServerProcess n : nodes) {
      statuses.add(n.status());
    }
    String leader = statuses.get(0).getLeader();
    for (int i = 0; i < 3; i++) {
      MemberStatus s = statuses.get(i);
      assertThat(s.getId()).isEqualTo("n" + (i + 1));
      assertThat(s.getLeader()).isEqualTo(leader);
      assertThat(s.getRole()).isEqualTo(s.getId().equals(leader) ? Role.LEADER : Role.FOLLOWER);
      assertThat(s.getTerm()).isPositive();
      assertThat(s.getAppliedIndex()).isGreaterThanOrEqualTo(0);
      assertThat(s.getCommitIndex()).isGreaterThanOrEqualTo(s.getAppliedIndex());
      assertThat(s.getReady()).isTrue();
    }
    // The JSON on the wire, as scripts read it.
    assertThat(nodes.get(0).get("/status").body())
        .contains(
            "\"peers\":[{\"id\":\"n1\",\"address\":\"127.0.0.1:%d\",\"clientAddress\":\"127.0.0.1:%d\"},{\"id\":\"n2\","
                .formatted(raftPorts[0], clientPorts[0]),
            "\"role\":\"" + statuses.get(0).getRole() + "\"",
            "\"ready\":true");
    assertThat(statuses).filteredOn(s -> s.getRole() == Role.LEADER).hasSize(1);
    assertThat(statuses.stream().map(MemberStatus::getTerm).distinct()).hasSize(1);
    assertThat(nodes.get(0).get("/health").body()).isEqualTo("ok\n");
    assertThat(Files.readString(nodes.get(0).logFile()))
        .contains(
            "INFO  n1 dev.roost.server.RoostServer - roost-server n1 started: peer 127.0.0.1:"
                + raftPorts[0]);

    // Ratis' admin RPCs are refused; the client port serves Ratis' client calls.
    List<RaftPeer> raftPeers = Peers.parse(peers);
    try (RaftClient ratis =
        RaftClient.newBuilder()
            .setRaftGroup(Peers.group(raftPeers))
            .setProperties(new RaftProperties())
            .setRetryPolicy(RetryPolicies.noRetry())
            .build()) {
      Query digest =
          Query.newBuilder().setGetStateDigest(GetStateDigest.getDefaultInstance()).build();
      assertThat(
              ratis
                  .io()
                  .sendReadOnly(Message.valueOf(ByteString.copyFrom(digest.toByteArray())))
                  .isSuccess())
          .isTrue();
      assertThatThrownBy(() -> ratis.getGroupManagementApi(raftPeers.get(0).getId()).list())
          .hasMessageContaining("PERMISSION_DENIED");
      assertThatThrownBy(() -> ratis.admin().setConfiguration(raftPeers.subList(0, 1)))
          .hasMessageContaining("PERMISSION_DENIED");
    }
    assertThat(nodes.get(0).status().getPeersList()).hasSize(3);

    // The write gateway on the client port: the leader applies a write, answers it with the
    // members, and counts it; a follower does not take it and names the leader; bad bytes are
    // refused.
    int leaderAt = Integer.parseInt(leader.substring(1)) - 1;
    long session = ServerProcess.openSession(clientPorts[leaderAt]);
    Command put =
        Command.newBuilder()
            .setRequestId(
                RequestId.newBuilder().setSession(session).setSequence(1).setFirstUnanswered(1))
            .setKvPut(KvPut.newBuilder().setKey("via-gateway"))
            .build();
    GatewayReply applied = ServerProcess.gatewaySubmit(clientPorts[leaderAt], put.toByteArray());
    assertThat(applied.getOutcome()).isEqualTo(GatewayReply.Outcome.ANSWERED);
    assertThat(applied.getServerId()).isEqualTo(leader);
    Reply reply = Reply.parseFrom(applied.getReply());
    assertThat(reply.getKvEntry().getKey()).isEqualTo("via-gateway");
    assertThat(applied.getMembersList()).hasSize(3);
    assertThat(applied.getMembers(0).getClientAddress())
        .isNotEqualTo(applied.getMembers(0).getAddress());
    assertThat(nodes.get(leaderAt).get("/metrics").body())
        // The session's opening and the put.
        .contains("roost_gateway_writes_total 2.0")
        .contains("roost_gateway_entries_total 2.0");
    GatewayReply refused =
        ServerProcess.gatewaySubmit(clientPorts[(leaderAt + 1) % 3], put.toByteArray());
    assertThat(refused.getOutcome()).isEqualTo(GatewayReply.Outcome.NOT_TAKEN);
    assertThat(refused.getLeaderId()).isEqualTo(leader);
    assertThatThrownBy(
            () -> ServerProcess.gatewaySubmit(clientPorts[leaderAt], new byte[] {(byte) 0xff}))
        .isInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("INVALID_ARGUMENT: malformed command");

    // A fourth start on n1's Raft port, which n1's gRPC server holds, exits 2 with one line.
    ServerProcess raftClash =
        ServerProcess.start("n1", peers, dir.resolve("clash-raft"), LoopbackPorts.one());
    started.add(raftClash);
    assertThat(raftClash.waitFor()).isEqualTo(2);
    assertThat(raftClash.stderr())
        .isEqualTo(
            "roost-server: --peers: cannot bind the peer port of n1 (127.0.0.1:"
                + raftPorts[0]
                + "): Address already in use\n");

    // So does one whose admin port is n2's.
    String otherPeers = "n4=127.0.0.1:" + LoopbackPorts.one() + "/" + LoopbackPorts.one();
    ServerProcess httpClash =
        ServerProcess.start("n4", otherPeers, dir.resolve("clash-http"), httpPorts[1]);
    started.add(httpClash);
    assertThat(httpClash.waitFor()).isEqualTo(2);
    assertThat(httpClash.stderr())
        .isEqualTo(
            "roost-server: --http: cannot bind 127.0.0.1:"
                + httpPorts[1]
                + ": Address already in use\n");

    // And one whose admin host does not resolve.
    ServerProcess unknownHost =
        ServerProcess.startWithArgs(
            "n4",
            dir.resolve("unknown-host"),
            "--id=n4",
            "--peers=" + otherPeers,
            "--data-dir=" + dir.resolve("unknown-host"),
            "--http=no-such-host.invalid:" + LoopbackPorts.one(),
            "--insecure");
    started.add(unknownHost);
    assertThat(unknownHost.waitFor()).isEqualTo(2);
    assertThat(unknownHost.stderr())
        .isEqualTo("roost-server: --http: unknown host 'no-such-host.invalid'\n");

    // Secure by default: without TLS files, and without --insecure, a server does not start.
    ServerProcess noTls =
        ServerProcess.startWithArgs(
            "n4",
            dir.resolve("no-tls"),
            "--id=n4",
            "--peers=" + otherPeers,
            "--data-dir=" + dir.resolve("no-tls"),
            "--http=127.0.0.1:" + LoopbackPorts.one());
    started.add(noTls);
    assertThat(noTls.waitFor()).isEqualTo(2);
    assertThat(noTls.stderr())
        .startsWith(
            "roost-server: TLS is on unless --insecure: --tls-ca, --tls-cert and --tls-key are"
                + " required");

    // SIGTERM stops n3 through its shutdown hook, which logs the stop.
    ServerProcess n3 = nodes.get(2);
    assertThat(n3.terminate()).isEqualTo(143);
    assertThat(Files.readString(n3.logFile())).contains("roost-server n3 stopped");

    // Restarted on the same data directory, n3 recovers its log and becomes ready again.
    ServerProcess n3again = start("n3", peers, httpPorts[2]);
    await().atMost(STARTUP).pollInterval(Duration.ofMillis(200)).until(n3again::isReady);
    assertThat(n3again.status().getTerm()).isGreaterThanOrEqualTo(statuses.get(2).getTerm());

    // n3's disk is lost: started again under its id with an empty data directory, it would have
    // forgotten its vote and what it acknowledged. The leader remembers n3's commit index, so n3
    // refuses to start and says how to replace it.
    assertThat(n3again.terminate()).isEqualTo(143);
    deleteRecursively(dir.resolve("n3"));
    ServerProcess n3lost = start("n3", peers, httpPorts[2]);
    assertThat(n3lost.waitFor()).isEqualTo(2);
    // The stderr file of n3 holds its earlier runs too; this run wrote its last line.
    assertThat(n3lost.stderr().lines().reduce((first, second) -> second).orElseThrow())
        .startsWith("roost-server: n3 holds no Raft state, but n")
        .contains("its disk was lost")
        .contains("roost cluster remove n3")
        .contains("--join");
  }

  private static void deleteRecursively(Path root) throws IOException {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Test
  void aLeaderWithAClockAYearAheadStampsItsPeersTime() throws Exception {
    int[] raftPorts = IntStream.range(0, 3).map(i -> LoopbackPorts.one()).toArray();
    int[] clientPorts = IntStream.range(0, 3).map(i -> LoopbackPorts.one()).toArray();
    int[] httpPorts = IntStream.range(0, 3).map(i -> LoopbackPorts.one()).toArray();
    String peers = peers(raftPorts, clientPorts);
    // n1's clock runs a year ahead; n2 and n3 wait ten times longer before they campaign, so n1
    // leads.
    ServerProcess n1 =
        ServerProcess.start(
            List.of("-D" + RoostServer.CLOCK_OFFSET_PROPERTY + "=" + YEAR_MS),
            "n1",
            peers,
            dir.resolve("n1"),
            httpPorts[0]);
    started.add(n1);
    for (int i = 1; i < 3; i++) {
      started.add(
          ServerProcess.start(
              "n" + (i + 1),
              peers,
              dir.resolve("n" + (i + 1)),
              httpPorts[i],
              "--election-timeout-min=4000",
              "--election-timeout-max=5000"));
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> started.stream().allMatch(ServerProcess::isReady));
    MemberStatus status = n1.status();
    assertThat(status.getLeader()).as("the leader").isEqualTo("n1");

    // n1 has read both peers' clocks: it knows it runs a year ahead of them.
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> aheadOfMajority(n1) > YEAR_MS - 60_000);

    long session = ServerProcess.openSession(clientPorts[0]);
    long before = System.currentTimeMillis();
    Command register =
        Command.newBuilder()
            .setRequestId(
                RequestId.newBuilder().setSession(session).setSequence(1).setFirstUnanswered(1))
            .setRegisterUser(RegisterUser.newBuilder().setHandle("alice"))
            .build();
    GatewayReply answer = ServerProcess.gatewaySubmit(clientPorts[0], register.toByteArray());
    long after = System.currentTimeMillis();
    long createdAt = Reply.parseFrom(answer.getReply()).getUser().getCreatedAtMs();

    // Stamped with the peers' time, not n1's, and said so in n1's log.
    assertThat(answer.getOutcome()).isEqualTo(GatewayReply.Outcome.ANSWERED);
    assertThat(createdAt).isBetween(before - 2_000, after + 2_000);
    assertThat(Files.readString(n1.logFile()))
        .contains("n1: wall clock ")
        .contains("ms ahead of a majority of the members' clocks");
  }

  /** n1's {@code roost_clock_ahead_of_majority_ms}, or 0 while it reports none. */
  private static double aheadOfMajority(ServerProcess node) throws Exception {
    return node.get("/metrics")
        .body()
        .lines()
        .filter(l -> l.startsWith("roost_clock_ahead_of_majority_ms "))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1)))
        .findFirst()
        .orElse(0);
  }

  /** n1, n2, n3 on {@code raftPorts} and {@code clientPorts} of loopback, as --peers takes them. */
  private static String peers(int[] raftPorts, int[] clientPorts) {
    return IntStream.range(0, raftPorts.length)
        .mapToObj(i -> "n" + (i + 1) + "=127.0.0.1:" + raftPorts[i] + "/" + clientPorts[i])
        .collect(Collectors.joining(","));
  }
}

package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roost.proto.Command;
import dev.roost.proto.GatewayReply;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.RegisterUser;
import dev.roost.proto.Reply;
import dev.roost.proto.RequestId;
import dev.roost.testkit.LoopbackPorts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A leader whose wall clock runs a year ahead stamps writes with its peers' time. */
class ClockSkewIT {
  private static final long YEAR_MS = 365L * 24 * 3600 * 1000;

  @TempDir Path dir;

  private final List<ServerProcess> started = new ArrayList<>();

  @AfterEach
  void killEveryServerThisTestStarted() throws InterruptedException {
    for (ServerProcess p : started) {
      p.close();
    }
  }

  @Test
  void aLeaderWithAClockAYearAheadStampsItsPeersTime() throws Exception {
    int[] raftPorts = IntStream.range(0, 3).map(i -> LoopbackPorts.one()).toArray();
    int[] httpPorts = IntStream.range(0, 3).map(i -> LoopbackPorts.one()).toArray();
    String peers =
        IntStream.range(0, 3)
            .mapToObj(i -> "n" + (i + 1) + "=127.0.0.1:" + raftPorts[i])
            .collect(Collectors.joining(","));
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

    long before = System.currentTimeMillis();
    Command register =
        Command.newBuilder()
            .setRequestId(RequestId.newBuilder().setClientId("clock-it").setSequence(1))
            .setRegisterUser(RegisterUser.newBuilder().setHandle("alice"))
            .build();
    GatewayReply answer = ServerProcess.gatewaySubmit(raftPorts[0], register.toByteArray());
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
}

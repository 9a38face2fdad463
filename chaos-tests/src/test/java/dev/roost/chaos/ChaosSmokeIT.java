package dev.roost.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.chaos.checker.Verdict;
import dev.roost.chaos.cluster.ProcessCluster;
import dev.roost.chaos.history.Event;
import dev.roost.chaos.history.History;
import dev.roost.client.ReadConsistency;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos suite's smoke run in {@code mvn verify}: a short kv run and a short social run against
 * a real three-node cluster, each with one kill (and restart), one pause and one partition (real
 * packet loss in network namespaces when running as root, else skipped loudly), and both histories
 * must check valid. The full matrix is a separate, documented command.
 */
class ChaosSmokeIT {
  @TempDir Path dir;

  private RunOptions options(String workload, Duration time, Path out) {
    return options(
        workload,
        List.of("kill", "pause", "partition"),
        time,
        out,
        ReadConsistency.LINEARIZABLE,
        List.of());
  }

  private RunOptions options(
      String workload,
      List<String> nemesis,
      Duration time,
      Path out,
      ReadConsistency reads,
      List<String> serverArgs) {
    return new RunOptions(
        workload,
        nemesis,
        time,
        6,
        3,
        42,
        out,
        new long[] {3_000, 4_000},
        new long[] {2_000, 3_000},
        Duration.ofSeconds(60),
        Path.of(System.getProperty("roost.server.jar", "../server/target/roost-server.jar")),
        serverArgs,
        true,
        reads);
  }

  @Test
  void kvUnderKillPauseAndPartitionIsLinearizable() throws Exception {
    ChaosRun.Outcome o = ChaosRun.run(options("kv", Duration.ofSeconds(25), dir.resolve("kv")));
    assertValidWithEveryFault(o);
  }

  @Test
  void socialUnderKillPauseAndPartitionLosesNothing() throws Exception {
    ChaosRun.Outcome o =
        ChaosRun.run(options("social", Duration.ofSeconds(25), dir.resolve("social")));
    assertValidWithEveryFault(o);
  }

  /**
   * Leader leases: linearizable reads answered without a heartbeat round while the leader holds a
   * lease. A paused leader's lease runs out while it is stopped (leases count monotonic time), a
   * killed member waits out an election timeout before it starts Raft again, and a partitioned
   * leader loses its lease before the majority side can elect another; the history must stay
   * linearizable.
   */
  @Test
  void kvWithLeaderLeasesUnderKillPauseAndPartitionIsLinearizable() throws Exception {
    ChaosRun.Outcome o =
        ChaosRun.run(
            options(
                "kv",
                List.of("kill", "pause", "partition"),
                Duration.ofSeconds(25),
                dir.resolve("lease"),
                ReadConsistency.LINEARIZABLE,
                List.of("--read-lease")));
    assertValidWithEveryFault(o);
    // The servers did answer under leases, so the valid history says something about them.
    for (String node : List.of("n1", "n2", "n3")) {
      assertThat(o.dir().resolve("cluster").resolve("logs").resolve(node + ".log"))
          .content()
          .contains("reads by lease");
    }
  }

  /**
   * The suite must catch a system that is not linearizable. Clients reading at STALE consistency
   * read from any member without a read index; with a member killed and restarted (it serves its
   * replayed, older state while it catches up) and followers trailing the leader, some read returns
   * a value older than one already acknowledged, and the kv checker must say INVALID.
   */
  @Test
  void staleReadsAreCaught() throws Exception {
    ChaosRun.Outcome o =
        ChaosRun.run(
            options(
                "kv",
                List.of("kill", "pause"),
                Duration.ofSeconds(20),
                dir.resolve("stale"),
                ReadConsistency.STALE,
                List.of()));
    assertThat(o.verdict()).isEqualTo(Verdict.INVALID);
    assertThat(o.results()).anySatisfy(r -> assertThat(r.anomalies()).isNotEmpty());
    assertThat(o.exitCode()).isEqualTo(1);
  }

  private static void assertValidWithEveryFault(ChaosRun.Outcome o) throws Exception {
    assertThat(o.results()).allSatisfy(r -> assertThat(r.anomalies()).isEmpty());
    assertThat(o.verdict()).isEqualTo(Verdict.VALID);
    for (String file : List.of("history.jsonl", "results.json", "report.html", "latency.png")) {
      assertThat(o.dir().resolve(file)).isNotEmptyFile();
    }
    History history = History.read(o.dir().resolve("history.jsonl"));
    Set<String> started =
        history.nemesis().stream()
            .filter(op -> op.f().equals("start"))
            .map(op -> op.key().substring(0, op.key().indexOf('-')))
            .collect(Collectors.toSet());
    assertThat(started).contains("kill", "pause");
    if (ProcessCluster.namespacesAvailable()) {
      assertThat(started).contains("partition");
      assertThat(o.skippedFaults()).isZero();
    } else {
      assertThat(o.skippedFaults()).isPositive();
    }
    assertThat(history.ops()).anyMatch(op -> op.type() == Event.Type.OK);
    assertThat(Files.readString(o.dir().resolve("results.json"))).contains("\"command\"");
  }
}

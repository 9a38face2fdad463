package dev.roost.chaos.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.roost.cli.RoostCli;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.proto.Post;
import dev.roost.proto.StatusCode;
import dev.roost.testkit.LocalCluster.Node;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 6: two of three nodes are down, so no majority exists. Writes must fail within the
 * caller's deadline with a clear code and message (never hang, never show a stack trace), and
 * nothing may be acknowledged; as soon as one node returns, writes succeed again.
 *
 * <p>The code depends on what the client could know. A write that reached the surviving node was
 * refused there (it is not the leader and cannot become one), but a refusal does not prove that an
 * earlier attempt did not enter a log, so it ends {@code DEADLINE_EXCEEDED} with outcome unknown. A
 * write that could be sent nowhere ends {@code UNAVAILABLE}, and its outcome is known: not applied.
 */
class MajorityDownIT {
  private static final Duration DEADLINE = Duration.ofSeconds(3);

  /** Far above the deadline: this only detects a hang, it measures nothing. */
  private static final Duration HANG = DEADLINE.plus(TestCluster.PATIENCE);

  @TempDir Path home;

  @Test
  void withoutAMajorityWritesFailClearlyAndNothingIsAcknowledged() throws Exception {
    try (TestCluster cluster = TestCluster.start(home);
        RoostClient setup = cluster.client(Duration.ofSeconds(30))) {
      Node leader = cluster.awaitLeader();
      setup.registerUser("alice", "");
      setup.post("alice", "before the outage");
      Node survivor = cluster.others(leader).get(0);
      Node other = cluster.others(leader).get(1);

      // Two of three go down, the leader among them. The survivor alone can never win an election.
      cluster.kill(leader);
      cluster.kill(other);

      List<String> attempted = new ArrayList<>();
      try (RoostClient client =
          RoostClient.builder()
              .peers(cluster.peers())
              .tls(cluster.tls())
              .deadline(DEADLINE)
              .build()) {
        // A write through the whole peer list: the survivor refuses it, the others are gone.
        for (int i = 0; i < 3; i++) {
          String text = "while two are down " + i;
          attempted.add(text);
          RoostException e = failure(() -> client.post("alice", text));
          assertThat(e.code()).isIn(StatusCode.DEADLINE_EXCEEDED, StatusCode.UNAVAILABLE);
          assertThat(e.outcomeUnknown()).isEqualTo(e.code() == StatusCode.DEADLINE_EXCEEDED);
          assertThat(e.getMessage()).contains("within 3s");
        }
        // A read cannot be served either: no leader answers.
        RoostException read = failure(() -> client.listPosts("alice", 10, ""));
        assertThat(read.code()).isIn(StatusCode.UNAVAILABLE, StatusCode.DEADLINE_EXCEEDED);
        assertThat(read.outcomeUnknown()).isFalse();
      }

      // A client that knows only the two dead nodes never sends its write anywhere: UNAVAILABLE,
      // and the outcome is known (not applied), so it is not "unknown".
      try (RoostClient client =
          RoostClient.builder()
              .peers(TestCluster.peersOf(leader, other))
              .tls(cluster.tls())
              .deadline(DEADLINE)
              .build()) {
        attempted.add("to dead nodes only");
        RoostException e = failure(() -> client.post("alice", "to dead nodes only"));
        assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE);
        assertThat(e.outcomeUnknown()).isFalse();
        assertThat(e.getMessage()).startsWith("no Roost server reachable within 3s; tried ");
      }

      // The command line says the same in one line on stderr, exit status 3, no stack trace.
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int exit =
          assertTimeoutPreemptively(
              HANG,
              () ->
                  RoostCli.run(
                      new String[] {
                        "post",
                        "alice",
                        "from the CLI",
                        "--peers",
                        cluster.peers(),
                        "--ca",
                        cluster.local().caFile().orElseThrow().toString(),
                        "--timeout",
                        "3"
                      },
                      new PrintWriter(out, true),
                      new PrintWriter(err, true)));
      attempted.add("from the CLI");
      assertThat(exit).isEqualTo(3);
      assertThat(out.toString()).isEmpty();
      assertThat(err.toString().lines().filter(l -> l.startsWith("error: ")))
          .singleElement()
          .asString()
          .matches("error: (DEADLINE_EXCEEDED|UNAVAILABLE): .*within 3s.*");
      assertThat(err.toString()).doesNotContain("\tat ").doesNotContain("Exception");

      // One node returns: a majority again, a leader, and writes succeed.
      cluster.restart(other);
      try (RoostClient client = cluster.client(Duration.ofSeconds(30))) {
        await("a write to succeed with two of three nodes up")
            .atMost(TestCluster.PATIENCE)
            .ignoreExceptionsInstanceOf(RoostException.class)
            .until(() -> client.post("alice", "after one node returned") != null);
        // Nothing sent while there was no majority was applied.
        List<String> texts = client.allPosts("alice").map(Post::getText).toList();
        assertThat(texts).contains("before the outage", "after one node returned");
        assertThat(texts).doesNotContainAnyElementsOf(attempted);
      }
    }
  }

  /** Runs a call that must fail, failing the test if it hangs. */
  private static RoostException failure(Runnable call) {
    Throwable thrown = assertTimeoutPreemptively(HANG, () -> catchThrowable(call::run));
    assertThat(thrown).isInstanceOf(RoostException.class);
    return (RoostException) thrown;
  }
}

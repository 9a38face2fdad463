package dev.roost.chaos.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.roost.cli.RoostCli;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.proto.Post;
import dev.roost.proto.StatusCode;
import dev.roost.testkit.LocalCluster.Node;
import dev.roost.testkit.LoopbackPorts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 7: what the seed designs' clients did by hand ("find the new master"). A client given
 * only one follower's address still reaches the leader, for writes and reads; a client whose whole
 * peer list is wrong fails with a clear error instead of hanging or throwing a transport stack
 * trace.
 */
class LeaderDiscoveryIT {
  private static final Duration DEADLINE = Duration.ofSeconds(3);

  @TempDir Path home;

  @Test
  void aClientKnowingOnlyAFollowerFindsTheLeader() throws Exception {
    try (TestCluster cluster = TestCluster.start(home)) {
      Node leader = cluster.awaitLeader();
      Node follower = cluster.others(leader).get(0);

      // The follower answers "not the leader, try n<k>" with the group's addresses; the client
      // follows the redirect.
      try (RoostClient client =
          RoostClient.builder()
              .peers(TestCluster.peersOf(follower))
              .tls(cluster.tls())
              .deadline(Duration.ofSeconds(30))
              .build()) {
        client.registerUser("finder", "");
        Post post = client.post("finder", "found the leader through a follower");
        assertThat(client.listPosts("finder", 10, "").getPostsList()).containsExactly(post);
        assertThat(client.kvPut("found", new byte[] {1}).getVersion()).isEqualTo(1);
        assertThat(client.kvGet("found").getValue().toByteArray()).containsExactly(1);
      }

      // A wholly wrong peer list: nothing listens at any of these addresses.
      String nowhere =
          "x1=127.0.0.1:" + LoopbackPorts.one() + ",x2=127.0.0.1:" + LoopbackPorts.one();
      try (RoostClient client = RoostClient.builder().peers(nowhere).deadline(DEADLINE).build()) {
        RoostException write = failure(() -> client.post("finder", "lost"));
        assertThat(write.code()).isEqualTo(StatusCode.UNAVAILABLE);
        assertThat(write.outcomeUnknown()).isFalse();
        assertThat(write.getMessage()).startsWith("no Roost server reachable within 3s; tried x1=");
        RoostException read = failure(() -> client.getUser("finder"));
        assertThat(read.code()).isEqualTo(StatusCode.UNAVAILABLE);
      }

      // The command line reports it in one line on stderr with exit status 3.
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int exit =
          RoostCli.run(
              new String[] {
                "users",
                "--peers",
                nowhere,
                "--ca",
                cluster.local().caFile().orElseThrow().toString(),
                "--timeout",
                "3"
              },
              new PrintWriter(out, true),
              new PrintWriter(err, true));
      assertThat(exit).isEqualTo(3);
      assertThat(err.toString())
          .startsWith("error: UNAVAILABLE: no Roost server reachable within 3s; tried x1=")
          .doesNotContain("\tat ");
    }
  }

  private static RoostException failure(Runnable call) {
    Throwable thrown =
        assertTimeoutPreemptively(
            DEADLINE.plus(TestCluster.PATIENCE), () -> catchThrowable(call::run));
    assertThat(thrown).isInstanceOf(RoostException.class);
    return (RoostException) thrown;
  }
}

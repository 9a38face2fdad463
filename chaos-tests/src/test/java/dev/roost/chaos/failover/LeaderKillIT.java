package dev.roost.chaos.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.client.RoostClient;
import dev.roost.testkit.LocalCluster.Node;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 1: the leader is killed with SIGKILL under a steady write load from several clients. The
 * clients carry on through the client library with no error the caller sees (only latency), and
 * afterwards every acknowledged write is present exactly once.
 */
class LeaderKillIT {
  @TempDir Path home;

  @Test
  void writersCarryOnThroughALeaderKillAndNoWriteIsLostOrDoubled() throws Exception {
    try (TestCluster cluster = TestCluster.start(home)) {
      Node leader = cluster.awaitLeader();

      // Four clients write steadily, each one post at a time. Their deadline (30 s) is far above
      // a failover, so a caller should never see an error: the library retries inside it.
      try (PostWriters writers = new PostWriters(cluster, 4, Duration.ofSeconds(30))) {
        writers.awaitMoreAcks(100);

        // The leader dies mid-stream: writes in flight are either not in its log yet (the retry
        // appends them at the new leader) or replicated with the reply lost (the retry must be
        // answered from the remembered result, never applied twice).
        cluster.kill(leader);

        // The followers miss the heartbeats, elect one of them, and the writers move there.
        Node newLeader = cluster.awaitLeaderOtherThan(leader);
        assertThat(newLeader.id()).isNotEqualTo(leader.id());
        writers.awaitMoreAcks(100);
        writers.stop();

        assertThat(writers.failed()).as("writes that failed").isEmpty();
        assertThat(writers.unknown()).as("writes with outcome unknown").isEmpty();

        // The old leader comes back as a follower and catches up; then every member holds the
        // same state, and that state has every acknowledged write exactly once.
        cluster.restart(leader);
        cluster.awaitAllReady();
        cluster.awaitSameState();
        try (RoostClient reader = cluster.client(Duration.ofSeconds(30))) {
          writers.checkAgainst(reader);
        }
      }
    }
  }
}

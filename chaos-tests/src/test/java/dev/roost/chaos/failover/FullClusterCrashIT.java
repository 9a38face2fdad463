package dev.roost.chaos.failover;

import dev.roost.client.RoostClient;
import dev.roost.testkit.LocalCluster.Node;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 5: the whole cluster is killed with SIGKILL in the middle of a write load (a power cut),
 * then started again. Every acknowledged write is present (it was on disk on a majority before it
 * was acknowledged), and service resumes without any manual step: the same clients simply carry on.
 */
class FullClusterCrashIT {
  @TempDir Path home;

  @Test
  void everyAcknowledgedWriteSurvivesAPowerCutAndServiceResumes() throws Exception {
    try (TestCluster cluster = TestCluster.start(home)) {
      cluster.awaitLeader();

      // Short deadlines: while the cluster is gone the writers' calls fail (not sent, or outcome
      // unknown for the ones in flight at the cut) and they keep trying.
      try (PostWriters writers = new PostWriters(cluster, 3, Duration.ofSeconds(5))) {
        writers.awaitMoreAcks(200);

        // Power cut: every process dies at once, mid-write.
        for (Node n : cluster.local().nodes()) {
          cluster.kill(n);
        }

        // Power back: the nodes recover their logs and snapshots from disk, elect a leader, and
        // the same writer clients get acknowledgements again.
        for (Node n : cluster.local().nodes()) {
          cluster.restart(n);
        }
        cluster.awaitAllReady();
        writers.awaitMoreAcks(200);
        writers.stop();

        // Every write acknowledged before the cut is there, exactly once with its id; the ones
        // cut short at most once; nothing else.
        cluster.awaitSameState();
        try (RoostClient reader = cluster.client(Duration.ofSeconds(30))) {
          writers.checkAgainst(reader);
        }
      }
    }
  }
}

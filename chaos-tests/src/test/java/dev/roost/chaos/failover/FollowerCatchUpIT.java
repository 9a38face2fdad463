package dev.roost.chaos.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roost.proto.MemberStatus;
import dev.roost.testkit.LocalCluster.Node;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 3: a follower is stopped while 50,000 writes happen, then restarted. It catches up from
 * the leader's log (the default snapshot threshold, 100,000 entries, means there is no snapshot to
 * send), and its {@code /ready} stays false until it has caught up, then turns true: a load
 * balancer or Kubernetes would not send it traffic while it still serves an old state.
 */
class FollowerCatchUpIT {
  private static final int WRITES = 50_000;

  /** How far a member may trail and count as ready: the server's documented slack. */
  private static final long READY_SLACK = 100;

  @TempDir Path home;

  /** One answer of the restarted follower's {@code /status}. */
  record Sample(boolean ready, long applied, long leaderCommit) {}

  @Test
  void aRestartedFollowerCatchesUpFromTheLogAndIsNotReadyUntilThen() throws Exception {
    try (TestCluster cluster = TestCluster.start(home)) {
      Node leader = cluster.awaitLeader();
      Node follower = cluster.others(leader).get(0);

      // The follower goes away cleanly; the other two still form a majority and take writes.
      cluster.stop(follower);
      BulkWrites.kvPuts(cluster, "catch-up-", WRITES, 5_000, 16);
      // The clients batch concurrent writes and the leader's write gateway combines the clients'
      // batches, so the entries are far fewer than the writes, and how many fewer depends on
      // timing (150,000 writes took 4,817 entries in one run). What matters is that the follower
      // trails by far more than the ready slack: top up with writes of one entry each until it
      // does.
      long commit = topUpUntilCommitted(cluster, leader, 100 * READY_SLACK);
      assertThat(commit).isGreaterThanOrEqualTo(100 * READY_SLACK);

      // Watch the follower's /status from the moment it starts until it is ready.
      List<Sample> samples = new CopyOnWriteArrayList<>();
      ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
      try {
        sampler.scheduleWithFixedDelay(
            () -> cluster.status(follower).map(FollowerCatchUpIT::sample).ifPresent(samples::add),
            0,
            20,
            TimeUnit.MILLISECONDS);
        cluster.restart(follower);
        await("the restarted follower to report ready")
            .atMost(TestCluster.PATIENCE)
            .pollInterval(Duration.ofMillis(20))
            .until(() -> samples.stream().anyMatch(Sample::ready));
      } finally {
        sampler.shutdownNow();
        sampler.awaitTermination(10, TimeUnit.SECONDS);
      }

      // While it replayed the leader's log it said "not ready"; the first time it said "ready" it
      // had applied all but the slack of what the leader had committed (no writes ran meanwhile).
      int firstReady = indexOfFirstReady(samples);
      assertThat(samples.subList(0, firstReady))
          .as("answers before the first 'ready'")
          .isNotEmpty()
          .noneMatch(Sample::ready);
      assertThat(samples.subList(firstReady, samples.size()))
          .as("answers saying 'ready' (leader committed %d)", commit)
          .allMatch(s -> s.applied() + READY_SLACK >= commit);

      // It caught up from the log: no snapshot was installed, and its state equals the others'.
      cluster.awaitSameState();
      assertThat(Files.readString(cluster.local().logFile(follower.id())))
          .doesNotContain("installed snapshot from leader");
    }
  }

  private static Sample sample(MemberStatus status) {
    return new Sample(status.getReady(), status.getAppliedIndex(), status.getLeaderCommitIndex());
  }

  private static int indexOfFirstReady(List<Sample> samples) {
    for (int i = 0; i < samples.size(); i++) {
      if (samples.get(i).ready()) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Writes rounds of 2,000 puts of one entry each (ten rounds at most) until the leader's commit
   * index reaches {@code min}.
   */
  private static long topUpUntilCommitted(TestCluster cluster, Node leader, long min)
      throws InterruptedException {
    long commit = commitIndex(cluster, leader);
    for (int round = 0; commit < min && round < 10; round++) {
      BulkWrites.kvPutsOneEntryEach(cluster, "catch-up-more-" + round + "-", 2_000, 5_000, 16);
      commit = commitIndex(cluster, leader);
    }
    return commit;
  }

  private static long commitIndex(TestCluster cluster, Node leader) {
    return cluster.status(leader).map(MemberStatus::getCommitIndex).orElseThrow();
  }
}

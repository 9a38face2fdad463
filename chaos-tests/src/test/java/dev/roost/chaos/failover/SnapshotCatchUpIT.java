package dev.roost.chaos.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roost.proto.MemberStatus;
import dev.roost.proto.StateDigest;
import dev.roost.testkit.LocalCluster.Node;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 4: a follower is down long enough for the leader to take snapshots and purge the log
 * entries it would need, so that when it returns it can only catch up by snapshot installation;
 * afterwards its state digest equals the leader's.
 *
 * <p>Ratis purges whole closed log segments only, and a segment closes when it reaches 32 MB or
 * when the term changes. So that a handful of small writes suffices, the scenario restarts the
 * leader while the follower is away: the new term closes the segment holding the entries the
 * follower lacks, and the snapshots after it (every {@value #SNAPSHOT_THRESHOLD} entries) let Ratis
 * purge it.
 */
class SnapshotCatchUpIT {
  private static final int SNAPSHOT_THRESHOLD = 200;

  @TempDir Path home;

  @Test
  void aFollowerBehindThePurgedLogCatchesUpBySnapshotWithTheSameState() throws Exception {
    try (TestCluster cluster =
        TestCluster.start(home, "--snapshot-threshold", Integer.toString(SNAPSHOT_THRESHOLD))) {
      Node leader = cluster.awaitLeader();
      Node follower = cluster.others(leader).get(0);

      // The follower crashes early: its log ends here.
      long followerLast = cluster.status(follower).map(MemberStatus::getAppliedIndex).orElseThrow();
      cluster.kill(follower);

      // The two others carry on: more than Ratis' purge gap (1024 entries) of writes, one entry
      // each ...
      BulkWrites.kvPutsOneEntryEach(cluster, "snap-", 1_200, 100, 16);

      // ... a leader restart, whose new term closes the log segment holding all of them ...
      cluster.kill(leader);
      cluster.restart(leader);
      cluster.awaitReady(leader);
      Node current = cluster.awaitLeader();

      // ... and writes until the leader has snapshotted past that segment and deleted it: the
      // entries right after the follower's last one exist nowhere but in snapshots now.
      await("the leader to purge the log entries after index " + followerLast)
          .atMost(TestCluster.PATIENCE)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                BulkWrites.kvPutsOneEntryEach(cluster, "snap-", SNAPSHOT_THRESHOLD, 100, 16);
                return firstLogIndex(cluster, current).orElse(0) > followerLast + 1;
              });

      // The follower returns: the leader cannot send it the log, so it sends its snapshot, then
      // the log after it.
      cluster.restart(follower);
      cluster.awaitReady(follower);
      StateDigest digest = cluster.awaitSameState();
      assertThat(digest.getKeys()).isEqualTo(100);
      assertThat(Files.readString(cluster.local().logFile(follower.id())))
          .contains("installed snapshot from leader");
    }
  }

  /** The first index still in {@code node}'s Raft log, from its segment file names. */
  private static OptionalLong firstLogIndex(TestCluster cluster, Node node) throws IOException {
    List<Path> segments = cluster.logSegments(node);
    return segments.stream()
        .map(p -> p.getFileName().toString())
        // log_<first>-<last> for closed segments, log_inprogress_<first> for the open one
        .map(name -> name.startsWith("log_inprogress_") ? name.substring(15) : name.substring(4))
        .map(rest -> rest.contains("-") ? rest.substring(0, rest.indexOf('-')) : rest)
        .mapToLong(Long::parseLong)
        .min();
  }
}

package dev.roost.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.client.ReadConsistency;
import dev.roost.client.RoostClient;
import dev.roost.client.Tls;
import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LocalCluster.Node;
import dev.roost.testkit.LoopbackPorts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Follower reads against real server processes: spread over the members, and never older than what
 * the same client has already seen, also with a member frozen.
 */
class ReadConsistencyIT {
  @TempDir Path home;
  private LocalCluster cluster;

  @BeforeEach
  void up() throws Exception {
    cluster =
        LocalCluster.create(home, LocalCluster.defaultServerJar(), 3, LoopbackPorts.cluster(3));
    cluster.startAll();
    cluster.awaitReady(cluster.nodes(), Duration.ofSeconds(60));
  }

  @AfterEach
  void down() throws IOException {
    cluster.stopAll(Duration.ofSeconds(5));
  }

  @Test
  void followerReadsSeeTheClientsOwnWritesFromEveryMember() throws Exception {
    try (RoostClient client =
        RoostClient.builder()
            .peers(cluster.peers())
            .tls(Tls.of(cluster.caFile()))
            .readConsistency(ReadConsistency.FOLLOWER)
            .deadline(Duration.ofSeconds(20))
            .build()) {
      Set<Long> appliedIndexes = new HashSet<>();
      for (int i = 0; i < 30; i++) {
        client.kvPut("counter", bytes(i));
        // Read-your-writes: whichever member answers has applied this client's write.
        assertThat(client.kvGet("counter").getValue().toString(StandardCharsets.UTF_8))
            .isEqualTo(Integer.toString(i));
        appliedIndexes.add(client.lastAppliedIndex());
      }
      assertThat(appliedIndexes).hasSizeGreaterThan(1);

      // With a follower frozen, its turn costs one attempt and another member answers.
      Node leader = cluster.leader().orElseThrow();
      Node frozen =
          cluster.nodes().stream()
              .filter(n -> !n.id().equals(leader.id()))
              .findFirst()
              .orElseThrow();
      cluster.signal(frozen, "STOP");
      try {
        for (int i = 100; i < 106; i++) {
          client.kvPut("counter", bytes(i));
          assertThat(client.kvGet("counter").getValue().toString(StandardCharsets.UTF_8))
              .isEqualTo(Integer.toString(i));
        }
      } finally {
        cluster.signal(frozen, "CONT");
      }
    }
  }

  private static byte[] bytes(int i) {
    return Integer.toString(i).getBytes(StandardCharsets.UTF_8);
  }
}

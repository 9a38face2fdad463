package dev.roost.chaos.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.roost.testkit.LocalCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster whose nodes cannot reach each other says why instead of only timing out: the failure
 * the namespace network showed on hosts where Docker runs (FORWARD policy DROP), made here with the
 * harness's own blackhole routes, which drop the same packets.
 */
class NamespaceNetworkIT {
  @TempDir Path dir;

  @Test
  void nodesThatCannotReachEachOtherAreNamedWhenTheClusterIsNotReady() throws Exception {
    assumeTrue(ProcessCluster.namespacesAvailable(), "needs root and iproute2");
    try (ProcessCluster cluster =
        ProcessCluster.create(3, dir, LocalCluster.defaultServerJar(), List.of(), true)) {
      // Every node drops every packet to the others; this host still reaches each of them.
      cluster.partition(
          Map.of("n1", Set.of("n2", "n3"), "n2", Set.of("n1", "n3"), "n3", Set.of("n1", "n2")));
      cluster.startAll();

      assertThatThrownBy(() -> cluster.awaitReady(Duration.ofSeconds(10)))
          .hasMessageContaining("not ready")
          .hasMessageContaining("packets between the nodes' namespaces are dropped")
          .hasMessageContaining("n1 -> n2");

      // Healed, the same cluster forms and nothing is left to diagnose.
      cluster.heal();
      cluster.awaitReady(Duration.ofSeconds(60));
      assertThat(cluster.leader()).isPresent();
    }
  }
}

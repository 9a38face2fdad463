package dev.roost.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalClusterTest {
  @TempDir Path home;

  @Test
  void theReadLeaseSettingIsRememberedWithTheCluster() throws Exception {
    Path jar = home.resolve("roost-server.jar");
    LocalCluster.create(home, jar, 3, 7001).readLease(true).save();

    LocalCluster loaded = LocalCluster.load(home, jar).orElseThrow();

    // A later `./roost restart n1` must start the node with --read-lease like the others.
    for (LocalCluster.Node node : loaded.nodes()) {
      assertThat(loaded.serverCommand(node, false)).contains("--read-lease");
    }
    assertThat(loaded.nodes()).hasSize(3);
  }

  @Test
  void withoutTheSettingServersStartWithoutALease() {
    LocalCluster cluster = LocalCluster.create(home, home.resolve("roost-server.jar"), 3, 7001);

    assertThat(cluster.serverCommand(cluster.nodes().get(0), false)).doesNotContain("--read-lease");
  }

  @Test
  void aClusterWrittenBeforeTheSettingExistedHasNoLease() throws Exception {
    Path jar = home.resolve("roost-server.jar");
    LocalCluster.create(home, jar, 3, 7001).readLease(true).save();
    Path file = home.resolve("cluster.properties");
    Files.write(
        file, Files.readAllLines(file).stream().filter(l -> !l.startsWith("read-lease")).toList());

    LocalCluster loaded = LocalCluster.load(home, jar).orElseThrow();
    assertThat(loaded.serverCommand(loaded.nodes().get(0), false)).doesNotContain("--read-lease");
  }
}

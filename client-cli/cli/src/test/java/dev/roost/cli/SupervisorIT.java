package dev.roost.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LocalCluster.Node;
import dev.roost.testkit.LoopbackPorts;
import dev.roost.testkit.ServerJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./roost up}'s supervisor on real processes: a node that crashes (its process dies without
 * {@code ./roost} knowing) is restarted and catches up; one killed with {@code ./roost kill} is
 * fault injection and stays down; {@code ./roost down} ends the supervisor.
 */
class SupervisorIT {
  @TempDir Path home;

  @AfterEach
  void down() {
    CliRun.roost(home, "down");
  }

  private LocalCluster cluster() throws IOException {
    return LocalCluster.load(home, LocalCluster.defaultServerJar()).orElseThrow();
  }

  @Test
  void aCrashedNodeIsRestartedAndAKilledOneIsNot() throws Exception {
    CliRun up =
        CliRun.ok(
            home, "up", "--nodes", "3", "--base-port", Integer.toString(LoopbackPorts.cluster(3)));
    assertThat(up.err()).contains("Supervisor (pid");
    long supervisor = Long.parseLong(Files.readString(home.resolve("supervisor.pid")).strip());

    // A crash: the process dies, the cluster still remembers its pid.
    long crashed = cluster().node("n2").pid();
    ServerJvm.kill(crashed);

    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () -> {
              Node n2 = cluster().node("n2");
              return n2.pid() != crashed && n2.alive() && cluster().ready(n2);
            });
    assertThat(Files.readString(home.resolve("logs").resolve("supervisor.log")))
        .contains("restarting n2 (pid " + crashed + ")");

    // Fault injection through ./roost: left down for well past the supervisor's bound.
    CliRun.ok(home, "kill", "n3");
    await()
        .during(Duration.ofSeconds(2L * Supervisor.FAILED_POLLS))
        .atMost(Duration.ofSeconds(3L * Supervisor.FAILED_POLLS))
        .until(() -> cluster().node("n3").pid() == 0);

    CliRun.ok(home, "down");
    assertThat(ServerJvm.alive(supervisor)).isFalse();
    assertThat(home.resolve("supervisor.pid")).doesNotExist();
  }
}

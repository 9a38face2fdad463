package dev.roost.chaos.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.roost.client.AdminClient;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.proto.Settings;
import dev.roost.proto.StatusCode;
import dev.roost.testkit.LocalCluster.Node;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The settings apply judges writes by live in the replicated state. A new cluster takes its first
 * leader's configured values; a member started later with other flags, even as leader, changes
 * nothing, so members never judge one write differently.
 */
class SettingsIT {
  @TempDir Path home;

  @Test
  void aFirstLeadersValuesHoldForEveryMemberWhateverTheirFlags() throws Exception {
    try (TestCluster cluster = TestCluster.start(home, "--max-post-length", "10");
        RoostClient client = cluster.client(Duration.ofSeconds(10))) {
      Node leader = cluster.awaitLeader();
      AdminClient admin =
          new AdminClient(
              cluster.local().httpEndpoints(),
              cluster.tls(),
              cluster.local().adminSecret(),
              Duration.ofSeconds(10));
      // The first leader submits its flags once it is ready.
      await()
          .atMost(TestCluster.PATIENCE)
          .until(
              () ->
                  admin.settings(Settings.getDefaultInstance()).getSettings().getMaxPostLength()
                      == 10);
      client.registerUser("alice", "");
      assertThat(refusal(client, "x".repeat(11)).code()).isEqualTo(StatusCode.INVALID_ARGUMENT);

      // A member restarted with other flags becomes the leader: the cluster's setting holds.
      Node other = cluster.others(leader).get(0);
      cluster.stop(other);
      cluster.local().serverArgs(List.of("--max-post-length", "500"));
      cluster.restart(other);
      cluster.awaitAllReady();
      admin.transfer(other.id());
      assertThat(cluster.awaitLeader().id()).isEqualTo(other.id());
      assertThat(refusal(client, "x".repeat(11)).code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
      assertThat(admin.settings(Settings.getDefaultInstance()).getSettings().getMaxPostLength())
          .isEqualTo(10);

      // Changed through the log, it changes for every member at one index.
      admin.settings(Settings.newBuilder().setMaxPostLength(20).build());
      assertThat(client.post("alice", "x".repeat(20)).getText()).hasSize(20);
      cluster.awaitSameState();
    }
  }

  private static RoostException refusal(RoostClient client, String text) {
    return catchThrowableOfType(RoostException.class, () -> client.post("alice", text));
  }
}

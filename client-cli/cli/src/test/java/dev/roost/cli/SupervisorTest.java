package dev.roost.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.testkit.LocalCluster.Node;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SupervisorTest {
  private final List<Node> nodes = new ArrayList<>(List.of(node("n1", 101), node("n2", 102)));
  private final Set<String> unhealthy = new HashSet<>();
  private final Set<String> paused = new HashSet<>();
  private final List<String> restarted = new ArrayList<>();
  private final StringWriter log = new StringWriter();
  private final Supervisor supervisor =
      new Supervisor(
          new Supervisor.Nodes() {
            @Override
            public List<Node> nodes() {
              return nodes;
            }

            @Override
            public boolean paused(Node node) {
              return paused.contains(node.id());
            }

            @Override
            public boolean healthy(Node node) {
              return !unhealthy.contains(node.id());
            }

            @Override
            public void restart(Node node) {
              restarted.add(node.id());
            }
          },
          new PrintWriter(log));

  private static Node node(String id, long pid) {
    return new Node(id, "127.0.0.1", 7001, 7201, 7101, pid);
  }

  private void poll(int times) {
    for (int i = 0; i < times; i++) {
      supervisor.poll();
    }
  }

  @Test
  void aNodeWhoseHealthFailsTheBoundInARowIsRestarted() {
    unhealthy.add("n2");

    poll(Supervisor.FAILED_POLLS - 1);
    assertThat(restarted).isEmpty();
    poll(1);

    assertThat(restarted).containsExactly("n2");
    assertThat(log.toString())
        .contains("restarting n2 (pid 102): /health failed 10 polls in a row");
  }

  @Test
  void aHealthyAnswerStartsTheCountAgain() {
    unhealthy.add("n2");
    poll(Supervisor.FAILED_POLLS - 1);
    unhealthy.clear();
    poll(1);
    unhealthy.add("n2");

    poll(Supervisor.FAILED_POLLS - 1);

    assertThat(restarted).isEmpty();
  }

  @Test
  void aNodeStoppedOrKilledThroughRoostIsLeftAlone() {
    // ./roost kill and ./roost down leave the node without a pid; its /health fails, of course.
    nodes.set(1, node("n2", 0));
    unhealthy.add("n2");

    poll(10 * Supervisor.FAILED_POLLS);

    assertThat(restarted).isEmpty();
  }

  @Test
  void aPausedNodeIsLeftAlone() {
    paused.add("n2");
    unhealthy.add("n2");

    poll(10 * Supervisor.FAILED_POLLS);

    assertThat(restarted).isEmpty();
  }

  @Test
  void aNodeThatStaysUnhealthyIsGivenUpOnAfterTheRestartLimit() {
    unhealthy.add("n2");

    poll(10 * Supervisor.FAILED_POLLS);

    assertThat(restarted).hasSize(Supervisor.MAX_RESTARTS);
    assertThat(log.toString()).contains("n2 is still unhealthy after 3 restarts; leaving it");
  }

  @Test
  void aNodeThatRecoveredMayBeRestartedAgainLater() {
    unhealthy.add("n2");
    poll(Supervisor.MAX_RESTARTS * Supervisor.FAILED_POLLS);
    unhealthy.clear();
    poll(1);
    unhealthy.add("n2");

    poll(Supervisor.FAILED_POLLS);

    assertThat(restarted).hasSize(Supervisor.MAX_RESTARTS + 1);
  }
}

package dev.roost.cli;

import dev.roost.testkit.LocalCluster.Node;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The local cluster's supervisor, as a liveness probe would be: it restarts a node whose {@code
 * /health} has failed {@link #FAILED_POLLS} polls in a row (a member Ratis closed, one {@code
 * StallWatch} found stuck, a process that crashed). It leaves alone what was done on purpose: a
 * node stopped or killed through {@code ./roost} (the cluster then remembers no process for it) and
 * a paused one ({@code ./roost pause}). A node that does not become healthy after {@link
 * #MAX_RESTARTS} restarts in a row is left stopped, with one line saying so, rather than restarted
 * forever.
 */
final class Supervisor {
  /** How often each node is probed. */
  static final Duration POLL = Duration.ofSeconds(1);

  /**
   * Failed polls in a row before a restart: long enough for a node to start (its HTTP endpoint
   * answers within a few seconds) and for a full GC, short enough that a dead member is back within
   * seconds.
   */
  static final int FAILED_POLLS = 10;

  /** Restarts in a row without the node becoming healthy before the supervisor gives up on it. */
  static final int MAX_RESTARTS = 3;

  /** What the supervisor needs of the nodes. */
  interface Nodes {
    /** The nodes of the cluster as it is now remembered. */
    List<Node> nodes();

    /** Whether {@code node}'s process is paused (SIGSTOP). */
    boolean paused(Node node);

    /** Whether {@code node}'s {@code /health} answers 200 now. */
    boolean healthy(Node node);

    /** Stops what is left of {@code node}'s process and starts it again. */
    void restart(Node node) throws Exception;
  }

  private record Count(int failed, int restarts) {}

  private final Nodes nodes;
  private final PrintWriter log;
  private final Map<String, Count> counts = new HashMap<>();

  /**
   * @param nodes the cluster's nodes
   * @param log where each restart, and each node given up on, is told in one line
   */
  Supervisor(Nodes nodes, PrintWriter log) {
    this.nodes = nodes;
    this.log = log;
  }

  /** Probes every node once and restarts those that have failed long enough. */
  void poll() {
    List<Node> now = nodes.nodes();
    counts.keySet().retainAll(now.stream().map(Node::id).toList());
    for (Node n : now) {
      // No pid: stopped or killed through ./roost, or never started.
      if (n.pid() <= 0 || nodes.paused(n)) {
        counts.remove(n.id());
        continue;
      }
      if (nodes.healthy(n)) {
        counts.remove(n.id());
        continue;
      }
      Count before = counts.getOrDefault(n.id(), new Count(0, 0));
      Count c = new Count(before.failed() + 1, before.restarts());
      if (c.failed() < FAILED_POLLS || c.restarts() > MAX_RESTARTS) {
        counts.put(n.id(), c);
        continue;
      }
      if (c.restarts() == MAX_RESTARTS) {
        log.println(
            "supervisor: "
                + n.id()
                + " is still unhealthy after "
                + MAX_RESTARTS
                + " restarts; leaving it (./roost logs "
                + n.id()
                + ", ./roost restart "
                + n.id()
                + ")");
        counts.put(n.id(), new Count(c.failed(), c.restarts() + 1));
        continue;
      }
      log.println(
          "supervisor: restarting "
              + n.id()
              + " (pid "
              + n.pid()
              + "): /health failed "
              + c.failed()
              + " polls in a row");
      try {
        nodes.restart(n);
      } catch (Exception e) {
        log.println("supervisor: restarting " + n.id() + " failed: " + e.getMessage());
      }
      counts.put(n.id(), new Count(0, c.restarts() + 1));
    }
    log.flush();
  }
}

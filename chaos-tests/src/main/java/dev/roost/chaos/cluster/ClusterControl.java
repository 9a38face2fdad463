package dev.roost.chaos.cluster;

import dev.roost.client.Tls;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Control of one Roost cluster under test: the only way the harness touches server processes and
 * the network between them, so that another backend (containers) can replace the process backend.
 *
 * <p>Every method acts at once and reports failure as an {@link IOException}; none waits for the
 * cluster to recover except {@link #awaitReady}. {@link #close()} must leave nothing behind: no
 * process, no network device, no namespace.
 */
public interface ClusterControl extends AutoCloseable {

  /** The node ids, in order. */
  List<String> nodes();

  /** The peer list for clients, {@code id=host:port/port,...}. */
  String peers();

  /** How clients reach the nodes: TLS trusting the cluster's CA, as every cluster here runs. */
  Tls tls();

  /** Starts the node's server process (again, after a kill or stop), on its existing data. */
  void start(String node) throws IOException;

  /** Stops the node's process gracefully (SIGTERM, then SIGKILL after a grace period). */
  void stop(String node) throws IOException;

  /** Kills the node's process with SIGKILL, as a crash would. */
  void kill(String node) throws IOException;

  /** Freezes the node's process with SIGSTOP. */
  void pause(String node) throws IOException;

  /** Thaws a paused node with SIGCONT. */
  void resume(String node) throws IOException;

  /** Whether the node's process is alive (paused counts as alive). */
  boolean running(String node);

  /** The node that reports itself leader with the highest term, if any answers now. */
  Optional<String> leader();

  /**
   * Waits until every running node reports itself ready.
   *
   * @throws IOException naming the nodes still not ready after {@code timeout}
   */
  void awaitReady(Duration timeout) throws IOException;

  /** Whether {@link #partition} drops real packets on this backend. */
  boolean supportsPartitions();

  /**
   * Cuts the network: each key node no longer reaches the nodes in its value (make the map
   * symmetric for a symmetric cut). Clients still reach every node, as in Jepsen. Replaces any
   * earlier cut.
   *
   * @throws UnsupportedOperationException if {@link #supportsPartitions()} is false
   */
  void partition(Map<String, Set<String>> unreachable) throws IOException;

  /** Removes every cut; a no-op on a backend without partitions. */
  void heal() throws IOException;

  /** A description of the backend for reports (network kind, addresses). */
  String describe();

  /** Kills every process and removes every network device and namespace this cluster made. */
  @Override
  void close() throws IOException;
}

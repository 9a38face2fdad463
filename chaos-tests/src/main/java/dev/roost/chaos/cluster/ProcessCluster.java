package dev.roost.chaos.cluster;

import dev.roost.chaos.checker.Convergence;
import dev.roost.client.ClusterStatus;
import dev.roost.client.RoostException;
import dev.roost.client.Tls;
import dev.roost.proto.MemberStatus;
import dev.roost.testkit.ClusterException;
import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LocalCluster.Node;
import dev.roost.testkit.ServerJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The chaos suite's cluster: the test kit's {@link LocalCluster} of real {@code roost-server}
 * processes under the run directory, placed on a {@link Network}: one Linux network namespace per
 * node when running as root with {@code ip} (partitions drop real packets), else loopback
 * (partitions unsupported).
 */
public final class ProcessCluster implements ClusterControl, Convergence.Members {
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);

  private final LocalCluster cluster;
  private final Network network;

  private ProcessCluster(LocalCluster cluster, Network network) {
    this.cluster = cluster;
    this.network = network;
  }

  /**
   * Prepares (but does not start) a cluster of {@code size} nodes n1..nN.
   *
   * @param dir where data directories and logs go
   * @param serverJar the {@code roost-server.jar} to run
   * @param serverArgs extra server flags (e.g. election timeouts)
   * @param namespaces use network namespaces; requires {@link #namespacesAvailable()}
   */
  public static ProcessCluster create(
      int size, Path dir, Path serverJar, List<String> serverArgs, boolean namespaces)
      throws IOException {
    if (!Files.isRegularFile(serverJar)) {
      throw new IOException("server jar not found at " + serverJar + "; build it first");
    }
    List<String> ids = IntStream.rangeClosed(1, size).mapToObj(i -> "n" + i).toList();
    Files.createDirectories(dir);
    Network network = namespaces ? new NamespaceNetwork(ids) : new LoopbackNetwork(ids);
    List<Node> nodes =
        ids.stream()
            .map(
                n ->
                    new Node(
                        n,
                        network.host(n),
                        network.raftPort(n),
                        network.clientPort(n),
                        network.httpPort(n),
                        0))
            .toList();
    LocalCluster cluster =
        LocalCluster.create(dir, serverJar, nodes)
            // Five JVMs share two cores in CI.
            .jvm(ServerJvm.SMALL_JVM)
            .serverArgs(serverArgs)
            .placement(network::wrap);
    return new ProcessCluster(cluster, network);
  }

  /** Whether this machine can give each node a network namespace (root, {@code ip}). */
  public static boolean namespacesAvailable() {
    return NamespaceNetwork.available();
  }

  @Override
  public List<String> nodes() {
    return cluster.nodes().stream().map(Node::id).toList();
  }

  @Override
  public String peers() {
    return cluster.peers();
  }

  @Override
  public Tls tls() {
    return Tls.of(cluster.caFile());
  }

  /** Starts every node. */
  public void startAll() throws IOException {
    for (String n : nodes()) {
      start(n);
    }
  }

  @Override
  public synchronized void start(String node) throws IOException {
    if (!running(node)) {
      try {
        cluster.start(node(node));
      } catch (ClusterException e) {
        throw new IOException(e.getMessage(), e);
      }
    }
  }

  @Override
  public synchronized void stop(String node) throws IOException {
    cluster.stop(node(node), STOP_GRACE);
  }

  @Override
  public synchronized void kill(String node) throws IOException {
    cluster.kill(node(node));
  }

  @Override
  public synchronized void pause(String node) throws IOException {
    cluster.signal(node(node), "STOP");
  }

  @Override
  public synchronized void resume(String node) throws IOException {
    cluster.signal(node(node), "CONT");
  }

  @Override
  public boolean running(String node) {
    return node(node).alive();
  }

  /** The node's {@code /status}, or empty when it does not answer within a second. */
  @Override
  public Optional<MemberStatus> status(String node) {
    return cluster.status(node(node));
  }

  /** The node's state digest, read from its own state, or empty when it does not answer. */
  @Override
  public Optional<String> digest(String node) {
    try {
      return Optional.of(
          ClusterStatus.digest(peers(), tls(), node, Duration.ofSeconds(2)).getSha256());
    } catch (RoostException e) {
      return Optional.empty();
    }
  }

  @Override
  public Optional<String> leader() {
    return cluster.leader().map(Node::id);
  }

  @Override
  public void awaitReady(Duration timeout) throws IOException {
    try {
      cluster.awaitReady(cluster.nodes().stream().filter(Node::alive).toList(), timeout);
    } catch (ClusterException e) {
      throw new IOException(
          e.getMessage() + network.diagnose().map(cause -> "; " + cause).orElse(""), e);
    }
  }

  @Override
  public boolean supportsPartitions() {
    return network.supportsPartitions();
  }

  @Override
  public void partition(Map<String, Set<String>> unreachable) throws IOException {
    if (!supportsPartitions()) {
      throw new UnsupportedOperationException("this backend cannot partition: " + describe());
    }
    network.cut(unreachable);
  }

  @Override
  public void heal() throws IOException {
    network.heal();
  }

  @Override
  public String describe() {
    return cluster.nodes().size() + " roost-server processes, " + network.describe();
  }

  @Override
  public synchronized void close() throws IOException {
    for (Node n : cluster.nodes()) {
      cluster.kill(n);
    }
    network.close();
  }

  private Node node(String id) {
    return cluster.nodes().stream()
        .filter(n -> n.id().equals(id))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no node " + id));
  }
}

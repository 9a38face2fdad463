package dev.roost.chaos.failover;

import static org.awaitility.Awaitility.await;

import dev.roost.chaos.checker.CheckResult;
import dev.roost.chaos.checker.Convergence;
import dev.roost.chaos.checker.Verdict;
import dev.roost.client.ClusterStatus;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.client.Tls;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.Role;
import dev.roost.proto.StateDigest;
import dev.roost.testkit.ClusterException;
import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LocalCluster.Node;
import dev.roost.testkit.LoopbackPorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A fresh three-node Roost cluster of real {@code roost-server} processes on loopback, for one
 * failure scenario: started in a temporary directory on free ports, controlled with real signals
 * (SIGKILL, SIGSTOP/SIGCONT) through {@link LocalCluster}, and stopped by {@link #close()}.
 *
 * <p>Every wait is bounded and polls ({@link #PATIENCE}); there are no fixed sleeps. Nodes are
 * always looked up by id, because a restart gives a node a new pid.
 */
final class TestCluster implements AutoCloseable {
  /** The bound of every wait: generous, since the tests share two busy cores. */
  static final Duration PATIENCE = Duration.ofSeconds(90);

  private final LocalCluster local;

  private TestCluster(LocalCluster local) {
    this.local = local;
  }

  /**
   * Starts three nodes in {@code home} with the server's default settings plus {@code serverArgs},
   * and waits until every one is ready.
   */
  static TestCluster start(Path home, String... serverArgs) throws Exception {
    LocalCluster local =
        LocalCluster.create(home, LocalCluster.defaultServerJar(), 3, LoopbackPorts.cluster(3))
            .serverArgs(List.of(serverArgs));
    TestCluster cluster = new TestCluster(local);
    local.startAll();
    cluster.awaitAllReady();
    return cluster;
  }

  LocalCluster local() {
    return local;
  }

  /** The whole peer list, {@code n1=127.0.0.1:port/port,...}. */
  String peers() {
    return local.peers();
  }

  /** The peer list of just {@code nodes}. */
  static String peersOf(Node... nodes) {
    List<String> entries = new ArrayList<>();
    for (Node n : nodes) {
      entries.add(n.id() + "=" + n.addresses());
    }
    return String.join(",", entries);
  }

  Node node(String id) {
    try {
      return local.node(id);
    } catch (ClusterException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  List<Node> others(Node node) {
    return local.nodes().stream().filter(n -> !n.id().equals(node.id())).toList();
  }

  /** The {@code /status} of {@code node}, or empty while it does not answer (down, paused). */
  Optional<MemberStatus> status(Node node) {
    return local.status(node(node.id()));
  }

  /**
   * The node that reports itself leader with the highest term, if any does now. A resumed old
   * leader may still report LEADER for its old term for a moment; the higher term is the real one.
   */
  Optional<Node> leader() {
    Node best = null;
    long bestTerm = -1;
    for (Node n : local.nodes()) {
      if (!n.alive()) {
        continue;
      }
      Optional<MemberStatus> s = local.status(n);
      if (s.isPresent() && s.get().getRole() == Role.LEADER) {
        long term = s.get().getTerm();
        if (term > bestTerm) {
          best = n;
          bestTerm = term;
        }
      }
    }
    return Optional.ofNullable(best);
  }

  /** Waits for a leader that has committed an entry of its term (its own /ready is true). */
  Node awaitLeader() {
    return await("a ready leader")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> leader().filter(this::ready), Optional::isPresent)
        .orElseThrow();
  }

  /** Waits for a ready leader other than {@code old}. */
  Node awaitLeaderOtherThan(Node old) {
    return await("a ready leader other than " + old.id())
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> leader().filter(n -> !n.id().equals(old.id())).filter(this::ready),
            Optional::isPresent)
        .orElseThrow();
  }

  boolean ready(Node node) {
    return local.ready(node(node.id()));
  }

  void awaitAllReady() throws ClusterException {
    local.awaitReady(local.nodes(), PATIENCE);
  }

  void awaitReady(Node node) throws ClusterException {
    local.awaitReady(List.of(node(node.id())), PATIENCE);
  }

  /** SIGKILL, as a crash; returns once the process is gone. */
  void kill(Node node) {
    try {
      local.kill(node(node.id()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** SIGTERM: a clean stop; returns once the process is gone. */
  void stop(Node node) {
    try {
      local.stop(node(node.id()), Duration.ofSeconds(30));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** SIGSTOP: the process freezes with its sockets open, as in a long GC pause. */
  void pause(Node node) throws IOException {
    local.signal(node(node.id()), "STOP");
  }

  /** SIGCONT. */
  void resume(Node node) throws IOException {
    local.signal(node(node.id()), "CONT");
  }

  /** Starts a stopped or killed node again on its data directory. */
  void restart(Node node) throws IOException, ClusterException {
    local.start(node(node.id()));
  }

  /** A client of the whole cluster with {@code deadline} per call. */
  RoostClient client(Duration deadline) {
    return RoostClient.builder().peers(peers()).tls(tls()).deadline(deadline).build();
  }

  /** How clients reach this cluster: TLS trusting its CA. */
  Tls tls() {
    return Tls.of(local.caFile());
  }

  /** The state digest of {@code node}, read from its own state (it may trail the leader). */
  StateDigest digest(Node node) {
    return ClusterStatus.digest(peers(), tls(), node.id(), Duration.ofSeconds(5));
  }

  /**
   * Waits until every member has applied the same index, checks that they then hold the same state
   * digest, and returns it. Call it when no write is running, so that the members can converge.
   *
   * @throws AssertionError naming the anomaly (as the chaos suite's {@link Convergence} check) if
   *     members at the same applied index hold different states or do not converge in time
   */
  StateDigest awaitSameState() {
    Convergence.Members members =
        new Convergence.Members() {
          @Override
          public List<String> nodes() {
            return local.nodes().stream().map(Node::id).toList();
          }

          @Override
          public Optional<MemberStatus> status(String node) {
            return TestCluster.this.status(node(node));
          }

          @Override
          public Optional<String> digest(String node) {
            try {
              return Optional.of(TestCluster.this.digest(node(node)).getSha256());
            } catch (RoostException e) {
              return Optional.empty();
            }
          }
        };
    CheckResult converged;
    try {
      converged = Convergence.check(members, PATIENCE, Convergence.SYSTEM);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for the members to converge", e);
    }
    if (converged.verdict() != Verdict.VALID) {
      throw new AssertionError(converged.note() + ": " + converged.anomalies());
    }
    return digest(local.nodes().get(0));
  }

  /**
   * The Raft log segment files of {@code node} (closed {@code log_A-B}, open {@code
   * log_inprogress_A}).
   */
  List<Path> logSegments(Node node) throws IOException {
    try (Stream<Path> files = Files.walk(local.dataDir(node.id()).resolve("raft"))) {
      return files.filter(p -> p.getFileName().toString().startsWith("log_")).sorted().toList();
    }
  }

  /** Stops every node (SIGCONT first for a paused one, then SIGTERM, then SIGKILL if needed). */
  @Override
  public void close() throws IOException {
    local.stopAll(Duration.ofSeconds(10));
  }
}

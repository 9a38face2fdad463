package dev.roost.chaos.cluster;

import dev.roost.proto.MemberStatus;
import dev.roost.proto.Role;
import dev.roost.testkit.StatusProbe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A cluster of real {@code roost-server} processes started from the built jar, each with its own
 * data directory and log file under the run directory, on a {@link Network}: one Linux network
 * namespace per node when running as root with {@code ip} (partitions drop real packets), else
 * loopback (partitions unsupported).
 */
public final class ProcessCluster implements ClusterControl {
  private final List<String> nodes;
  private final Path dir;
  private final Path serverJar;
  private final List<String> serverArgs;
  private final Network network;
  private final Map<String, Process> processes = new HashMap<>();

  private ProcessCluster(
      List<String> nodes, Path dir, Path serverJar, List<String> serverArgs, Network network) {
    this.nodes = nodes;
    this.dir = dir;
    this.serverJar = serverJar;
    this.serverArgs = List.copyOf(serverArgs);
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
    List<String> nodes = IntStream.rangeClosed(1, size).mapToObj(i -> "n" + i).toList();
    Files.createDirectories(dir);
    Network network = namespaces ? new NamespaceNetwork(nodes) : new LoopbackNetwork(nodes);
    return new ProcessCluster(nodes, dir, serverJar, serverArgs, network);
  }

  /** Whether this machine can give each node a network namespace (root, {@code ip}). */
  public static boolean namespacesAvailable() {
    return NamespaceNetwork.available();
  }

  @Override
  public List<String> nodes() {
    return nodes;
  }

  @Override
  public String peers() {
    return nodes.stream()
        .map(n -> n + "=" + network.host(n) + ":" + network.raftPort(n))
        .collect(Collectors.joining(","));
  }

  /** Starts every node. */
  public void startAll() throws IOException {
    for (String n : nodes) {
      start(n);
    }
  }

  @Override
  public synchronized void start(String node) throws IOException {
    if (running(node)) {
      return;
    }
    Path data = dir.resolve("data").resolve(node);
    Files.createDirectories(data);
    Files.createDirectories(dir.resolve("logs"));
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // Small heaps and the serial collector: five JVMs share two cores in CI.
    command.addAll(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    command.addAll(List.of("-jar", serverJar.toString()));
    command.addAll(
        List.of(
            "--id", node,
            "--peers", peers(),
            "--data-dir", data.toString(),
            "--http", network.host(node) + ":" + network.httpPort(node),
            "--log-file", dir.resolve("logs").resolve(node + ".log").toString()));
    command.addAll(serverArgs);
    Process p =
        new ProcessBuilder(network.wrap(node, command))
            .redirectErrorStream(true)
            .redirectOutput(
                ProcessBuilder.Redirect.appendTo(
                    dir.resolve("logs").resolve(node + ".out").toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    processes.put(node, p);
  }

  @Override
  public synchronized void stop(String node) throws IOException {
    Process p = processes.remove(node);
    if (p != null && p.isAlive()) {
      signal(p, "CONT"); // a stopped process cannot act on SIGTERM
      p.destroy();
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
  }

  @Override
  public synchronized void kill(String node) throws IOException {
    Process p = processes.remove(node);
    if (p != null) {
      p.destroyForcibly();
      try {
        p.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public synchronized void pause(String node) throws IOException {
    Process p = processes.get(node);
    if (p != null && p.isAlive()) {
      signal(p, "STOP");
    }
  }

  @Override
  public synchronized void resume(String node) throws IOException {
    Process p = processes.get(node);
    if (p != null && p.isAlive()) {
      signal(p, "CONT");
    }
  }

  private static void signal(Process p, String signal) throws IOException {
    Commands.run(List.of("kill", "-" + signal, Long.toString(p.pid())));
  }

  @Override
  public synchronized boolean running(String node) {
    Process p = processes.get(node);
    return p != null && p.isAlive();
  }

  /** The node's {@code /status}, or empty when it does not answer within a second. */
  public Optional<MemberStatus> status(String node) {
    return StatusProbe.standard().fetch(network.host(node) + ":" + network.httpPort(node));
  }

  @Override
  public Optional<String> leader() {
    String best = null;
    long bestTerm = -1;
    for (String n : nodes) {
      if (!running(n)) {
        continue;
      }
      Optional<MemberStatus> s = status(n);
      if (s.isPresent() && s.get().getRole() == Role.LEADER && s.get().getTerm() > bestTerm) {
        best = n;
        bestTerm = s.get().getTerm();
      }
    }
    return Optional.ofNullable(best);
  }

  @Override
  public void awaitReady(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<String> notReady =
          nodes.stream()
              .filter(this::running)
              .filter(n -> !status(n).map(MemberStatus::getReady).orElse(false))
              .toList();
      if (notReady.isEmpty()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IOException(
            "not ready after " + timeout.toSeconds() + " s: " + notReady + " (see " + dir + ")");
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for the cluster", e);
      }
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
    return nodes.size() + " roost-server processes, " + network.describe();
  }

  @Override
  public synchronized void close() throws IOException {
    for (String n : List.copyOf(processes.keySet())) {
      kill(n);
    }
    network.close();
  }
}

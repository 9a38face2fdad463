package dev.roost.bench;

import dev.roost.client.Tls;
import dev.roost.testkit.LocalCluster;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A 3-node cluster on free loopback ports in a temporary directory, removed on close. */
final class Throwaway implements AutoCloseable {
  static final Duration READY_TIMEOUT = Duration.ofMinutes(5);

  final LocalCluster cluster;

  private Tls tls;

  // A benchmark ended by Ctrl-C or SIGTERM must not leave three servers running behind it.
  private final Thread onExit = new Thread(this::stopQuietly, "roost-bench-cleanup");

  private Throwaway(LocalCluster cluster) {
    this.cluster = cluster;
    Runtime.getRuntime().addShutdownHook(onExit);
  }

  /** Starts the cluster with {@code serverArgs} and waits until every member is ready. */
  static Throwaway start(String purpose, List<String> serverArgs, PrintWriter progress)
      throws Exception {
    Path home = Files.createTempDirectory("roost-bench-");
    LocalCluster cluster =
        LocalCluster.createOnFreePorts(home, LocalCluster.defaultServerJar(), 3)
            .serverArgs(serverArgs);
    Throwaway t = new Throwaway(cluster);
    progress.println("Starting a 3-node cluster for " + purpose + " in " + home);
    progress.flush();
    try {
      cluster.startAll();
      // The cluster makes its CA as it starts its first node.
      t.tls = Tls.of(cluster.caFile());
      cluster.awaitReady(cluster.nodes(), READY_TIMEOUT);
    } catch (Exception e) {
      t.close();
      throw e;
    }
    return t;
  }

  /** How clients reach the cluster: TLS trusting the CA it made. */
  Tls tls() {
    return tls;
  }

  @Override
  public void close() throws IOException {
    try {
      Runtime.getRuntime().removeShutdownHook(onExit);
    } catch (IllegalStateException exiting) {
      // Closed by the hook itself or while the JVM exits: the hook stops the cluster.
    }
    cluster.stopAll(Duration.ofSeconds(10));
    cluster.wipe();
  }

  private void stopQuietly() {
    try {
      cluster.stopAll(Duration.ofSeconds(10));
      cluster.wipe();
    } catch (IOException | RuntimeException e) {
      System.err.println("could not remove the benchmark cluster: " + e);
    }
  }
}

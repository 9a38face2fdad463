package dev.roost.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.client.Tls;
import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LocalCluster.Node;
import dev.roost.testkit.LoopbackPorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server being added that accepts TCP connections but never answers Raft (a socket that never
 * replies, or a joining server frozen with SIGSTOP), while the cluster takes writes: Ratis' leader
 * checks a staged server's progress only when its event queue has been idle for an election
 * timeout, which a steady write load never allows, so without Roost's own bound the server stays
 * staged and every later membership change is refused until the leader changes. The add must fail
 * with a clear message, leave the members as they were, and a healthy server must then join.
 */
class StagingAbortIT {
  /** Long enough to prove the bound, short enough to keep the load bounded. */
  private static final Duration LOAD_LIMIT = Duration.ofMinutes(3);

  @TempDir Path home;
  private final ExecutorService load = Executors.newFixedThreadPool(2);
  private volatile boolean writing = true;
  private ServerSocket silent;

  @AfterEach
  void down() throws IOException {
    writing = false;
    load.shutdownNow();
    if (silent != null) {
      silent.close();
    }
    CliRun.roost(home, "down");
  }

  @Test
  void aStagedServerThatNeverAnswersIsAbortedAndALaterAddSucceeds() throws Exception {
    int basePort = LoopbackPorts.cluster(5);
    CliRun.ok(home, "up", "--nodes", "3", "--base-port", Integer.toString(basePort));
    LocalCluster cluster = LocalCluster.load(home, LocalCluster.defaultServerJar()).orElseThrow();
    AtomicInteger acked = new AtomicInteger();
    Future<?> writer = load.submit(() -> write(cluster, acked));

    // A "server" that accepts every connection and never sends a byte, as a SIGSTOPped process
    // does: the leader's reachability check passes, Raft gets no answer.
    silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    List<Socket> held = new CopyOnWriteArrayList<>();
    load.submit(() -> hold(silent, held));

    CliRun stuck =
        CliRun.roost(
            home,
            "cluster",
            "add",
            "n9",
            "127.0.0.1:" + silent.getLocalPort() + "/" + LoopbackPorts.one());

    assertThat(stuck.exit()).as(stuck.err()).isNotZero();
    assertThat(stuck.err())
        .startsWith("error: DEADLINE_EXCEEDED")
        .contains("aborted")
        .contains("unchanged");
    assertThat(members()).containsExactly("n1", "n2", "n3");
    assertThat(acked.get()).as("writes went on meanwhile").isPositive();

    // The next change is not blocked by the abandoned one.
    CliRun.ok(home, "add-node");
    assertThat(members()).containsExactly("n1", "n2", "n3", "n4");
    writing = false;
    writer.get();
  }

  @Test
  void aPausedJoiningServerIsAbortedAndAddedOnceItRunsAgain() throws Exception {
    int basePort = LoopbackPorts.cluster(5);
    CliRun.ok(home, "up", "--nodes", "3", "--base-port", Integer.toString(basePort));
    LocalCluster cluster = LocalCluster.load(home, LocalCluster.defaultServerJar()).orElseThrow();
    AtomicInteger acked = new AtomicInteger();
    Future<?> writer = load.submit(() -> write(cluster, acked));

    // A server in join mode, frozen with SIGSTOP once it listens: the kernel still accepts
    // connections on its port, the JVM answers nothing.
    Node n4 = cluster.newNode();
    cluster.startJoining(n4);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> cluster.status(cluster.node("n4")).isPresent());
    cluster.signal(cluster.node("n4"), "STOP");

    CliRun stuck = CliRun.roost(home, "cluster", "add", "n4", n4.addresses());

    assertThat(stuck.err())
        .startsWith("error: DEADLINE_EXCEEDED")
        .contains("aborted")
        .contains("unchanged");
    assertThat(members()).containsExactly("n1", "n2", "n3");

    // Running again, the same server is added: nothing of the abandoned change is left behind.
    cluster.signal(cluster.node("n4"), "CONT");
    CliRun.ok(home, "cluster", "add", "n4", n4.addresses());
    assertThat(members()).containsExactly("n1", "n2", "n3", "n4");
    writing = false;
    writer.get();
  }

  /** One write at a time until told to stop or {@link #LOAD_LIMIT} has passed. */
  private void write(LocalCluster cluster, AtomicInteger acked) {
    long end = System.nanoTime() + LOAD_LIMIT.toNanos();
    try (RoostClient client =
        RoostClient.builder()
            .peers(cluster.peers())
            .tls(Tls.of(cluster.caFile()))
            .deadline(Duration.ofSeconds(5))
            .build()) {
      for (int i = 0; writing && System.nanoTime() < end; i++) {
        try {
          client.kvPut("k" + i, ("v" + i).getBytes(StandardCharsets.UTF_8));
          acked.incrementAndGet();
        } catch (RoostException e) {
          // a leader change meanwhile: only acknowledged writes count
        }
        LocalCluster.sleep(Duration.ofMillis(20));
      }
    }
  }

  private static void hold(ServerSocket socket, List<Socket> held) {
    try {
      while (true) {
        held.add(socket.accept());
      }
    } catch (IOException e) {
      // closed at the end of the test: close what it accepted
      held.forEach(
          s -> {
            try {
              s.close();
            } catch (IOException ignored) {
              // closing anyway
            }
          });
    }
  }

  private Set<String> members() throws IOException {
    JsonNode status = CliRun.ok(home, "cluster", "status", "-o", "json").json();
    return StreamSupport.stream(status.spliterator(), false)
        .filter(m -> !m.path("role").asText().equals("NOT_MEMBER"))
        .map(m -> m.path("id").asText())
        .collect(Collectors.toCollection(TreeSet::new));
  }
}

package dev.roost.chaos.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.Reply;
import dev.roost.proto.Role;
import dev.roost.proto.StatusCode;
import dev.roost.testkit.LocalCluster.Node;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 2: the leader is frozen with SIGSTOP for longer than the election timeout, then resumed.
 * It keeps its sockets and its belief that it leads, so it is the classic split-brain candidate: a
 * new leader is elected; the old one must step down; it must acknowledge no write after it lost
 * leadership; and a linearizable read sent to it must never return a value older than one already
 * acknowledged by the new leader.
 *
 * <p>The pause stays a few seconds: Ratis makes a leader step down by itself after a 10 s JVM pause
 * and closes the server after 60 s, which would test something else.
 */
class LeaderPauseIT {
  private static final String KEY = "register";

  @TempDir Path home;

  @Test
  void aPausedLeaderStepsDownAcknowledgesNothingAndServesNoStaleRead() throws Exception {
    ExecutorService pool = Executors.newCachedThreadPool();
    try (TestCluster cluster = TestCluster.start(home);
        RoostClient client = cluster.client(Duration.ofSeconds(30))) {
      Node old = cluster.awaitLeader();
      long oldTerm = term(cluster, old);
      client.registerUser("pinned", "");

      // Steady load: posts from two writers, and a register whose every acknowledged version is
      // remembered, so that any read can be compared with what was acknowledged before it began.
      try (PostWriters writers = new PostWriters(cluster, 2, Duration.ofSeconds(30));
          RegisterWriter register = new RegisterWriter(cluster);
          PinnedClient reader =
              new PinnedClient(cluster.peers(), cluster.tls(), old, Duration.ofSeconds(20))) {
        writers.awaitMoreAcks(50);
        register.awaitMoreAcks(10);

        // Freeze the leader. The followers stop hearing heartbeats and elect one of them in a
        // higher term, while the old leader, frozen, still believes it leads.
        cluster.pause(old);
        Node fresh = cluster.awaitLeaderOtherThan(old);
        long newTerm = term(cluster, fresh);
        assertThat(newTerm).isGreaterThan(oldTerm);

        // The new leader acknowledges register versions the old one has never seen.
        register.awaitMoreAcks(5);

        // Requests sent straight to the frozen old leader, and to it only: they wait in its
        // sockets and are the first thing it handles when it wakes, still believing it leads.
        List<CompletableFuture<Reply>> pinnedWrites = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          String text = "sent to the paused leader " + i;
          pinnedWrites.add(
              CompletableFuture.supplyAsync(
                  () -> {
                    try (PinnedClient pinned =
                        new PinnedClient(
                            cluster.peers(), cluster.tls(), old, Duration.ofSeconds(20))) {
                      return pinned.post("pinned", text);
                    } catch (IOException e) {
                      throw new UncheckedIOException(e);
                    }
                  },
                  pool));
        }
        List<PinnedRead> pinnedReads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          pinnedReads.add(PinnedRead.send(reader, register, pool));
        }

        // Wake it. It learns of the higher term from the first answer of a member and steps down.
        cluster.resume(old);
        await("the old leader to step down and follow term " + newTerm)
            .atMost(TestCluster.PATIENCE)
            .pollInterval(Duration.ofMillis(50))
            .until(
                () ->
                    cluster
                        .status(old)
                        .filter(s -> s.getRole() == Role.FOLLOWER)
                        .filter(s -> s.getTerm() >= newTerm)
                        .isPresent());

        // Linearizable reads sent to the resumed node, now a follower: each is served through a
        // read index from the leader, so it must see every version acknowledged before it began.
        List<PinnedRead> readsAfter = new ArrayList<>();
        await("linearizable reads served by the resumed node")
            .atMost(TestCluster.PATIENCE)
            .pollInterval(Duration.ofMillis(20))
            .until(
                () -> {
                  PinnedRead r = PinnedRead.send(reader, register, pool);
                  readsAfter.add(r);
                  r.awaitAnswer();
                  return readsAfter.stream().filter(PinnedRead::served).count() >= 5;
                });

        writers.awaitMoreAcks(50);
        register.stop();
        writers.stop();

        // No write sent to the old leader after it lost leadership was acknowledged by it: each
        // failed (not the leader, or stepped down with the entry uncommitted in its stale term).
        for (CompletableFuture<Reply> w : pinnedWrites) {
          assertThat(w)
              .as("a write sent to the old leader while it was paused")
              .failsWithin(TestCluster.PATIENCE);
        }
        // No read served by the old node returned an older version than one acknowledged before
        // the read was sent (reads it could not serve fail, which is allowed).
        for (PinnedRead r : pinnedReads) {
          r.check();
        }
        for (PinnedRead r : readsAfter) {
          r.check();
        }

        assertThat(writers.failed()).as("writes that failed").isEmpty();
        assertThat(writers.unknown()).as("writes with outcome unknown").isEmpty();
        assertThat(register.failures()).as("register writes that failed").isZero();
        cluster.awaitSameState();
        writers.checkAgainst(client);
        // None of the posts sent to the old leader exists.
        assertThat(client.allPosts("pinned").toList()).isEmpty();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static long term(TestCluster cluster, Node node) {
    return cluster.status(node).map(MemberStatus::getTerm).orElseThrow();
  }

  /** Overwrites {@link #KEY} in a loop through the client library, remembering what was acked. */
  static final class RegisterWriter implements AutoCloseable {
    private final AtomicLong acknowledgedVersion = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final RoostClient client;
    private final Thread thread;

    RegisterWriter(TestCluster cluster) {
      this.client = cluster.client(Duration.ofSeconds(30));
      this.thread = new Thread(this::run, "register-writer");
      thread.setDaemon(true);
      thread.start();
    }

    private void run() {
      for (long n = 1; !stop.get(); n++) {
        try {
          long version =
              client.kvPut(KEY, Long.toString(n).getBytes(StandardCharsets.UTF_8)).getVersion();
          acknowledgedVersion.accumulateAndGet(version, Math::max);
        } catch (RoostException e) {
          failures.incrementAndGet();
        }
      }
    }

    /** The highest version any write of the register has been acknowledged with so far. */
    long acknowledgedVersion() {
      return acknowledgedVersion.get();
    }

    long failures() {
      return failures.get();
    }

    void awaitMoreAcks(long more) {
      long target = acknowledgedVersion.get() + more;
      await(more + " more register versions")
          .atMost(TestCluster.PATIENCE)
          .pollInterval(Duration.ofMillis(20))
          .until(() -> acknowledgedVersion.get() >= target);
    }

    /** Stops after the current write and closes the client; idempotent. */
    void stop() {
      stop.set(true);
      try {
        thread.join(TestCluster.PATIENCE.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      client.close();
    }

    @Override
    public void close() {
      stop();
    }
  }

  /**
   * One linearizable read of the register sent to the pinned node, with the highest version
   * acknowledged anywhere before it was sent.
   */
  record PinnedRead(long acknowledgedBefore, CompletableFuture<Reply> reply) {
    static PinnedRead send(PinnedClient client, RegisterWriter register, ExecutorService pool) {
      long before = register.acknowledgedVersion();
      return new PinnedRead(
          before,
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return client.kvGet(KEY);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              },
              pool));
    }

    /** Waits until the node answered or the request failed. */
    void awaitAnswer() {
      reply.handle((r, e) -> null).join();
    }

    boolean served() {
      return reply.isDone() && !reply.isCompletedExceptionally();
    }

    /** A read that the node served must not be older than what was acknowledged before it. */
    void check() {
      Reply r;
      try {
        r = reply.get(TestCluster.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        return; // not served: allowed
      } catch (Exception e) {
        throw new AssertionError("a pinned read did not end", e);
      }
      assertThat(r.getCode()).isEqualTo(StatusCode.OK);
      assertThat(r.getKvEntry().getVersion())
          .as(
              "version read from the resumed node (served at applied index %d) vs acknowledged"
                  + " before the read was sent",
              r.getAppliedIndex())
          .isGreaterThanOrEqualTo(acknowledgedBefore);
    }
  }
}

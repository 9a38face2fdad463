package dev.roost.chaos.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.client.RoostClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Many small writes fast: key-value puts through the asynchronous client API with {@link #CLIENTS}
 * x {@link #IN_FLIGHT_PER_CLIENT} of them outstanding, so that tens of thousands of writes take
 * seconds, not minutes. Each client batches its concurrent writes, and the leader's write gateway
 * combines the clients' batches, so they take fewer log entries than writes.
 *
 * <p>Why several clients rather than one with everything in flight: the state machine remembers the
 * newest 128 request ids per client, and refuses a retried request once 128 newer ones of the same
 * client have been applied. One client with hundreds of writes in flight trips over that as soon as
 * one write is held up by a retry (see the issue 4 report); a few writes in flight per client keep
 * every retry inside the window.
 */
final class BulkWrites {
  static final int CLIENTS = 8;
  static final int IN_FLIGHT_PER_CLIENT = 16;

  private BulkWrites() {}

  /**
   * Puts {@code count} values over {@code keys} keys named {@code prefix<n>}, and fails the test if
   * any write is not acknowledged.
   */
  static void kvPuts(TestCluster cluster, String prefix, int count, int keys, int valueBytes)
      throws InterruptedException {
    kvPuts(cluster, prefix, count, keys, valueBytes, false);
  }

  /**
   * As {@link #kvPuts(TestCluster, String, int, int, int)}, but every write takes a log entry of
   * its own (no batching in the clients, no write gateway): for scenarios that need many entries.
   */
  static void kvPutsOneEntryEach(
      TestCluster cluster, String prefix, int count, int keys, int valueBytes)
      throws InterruptedException {
    kvPuts(cluster, prefix, count, keys, valueBytes, true);
  }

  private static void kvPuts(
      TestCluster cluster, String prefix, int count, int keys, int valueBytes, boolean entryEach)
      throws InterruptedException {
    byte[] value = "v".repeat(valueBytes).getBytes(StandardCharsets.UTF_8);
    AtomicLong failures = new AtomicLong();
    AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    List<RoostClient> clients = new ArrayList<>();
    List<Semaphore> windows = new ArrayList<>();
    try {
      for (int c = 0; c < CLIENTS; c++) {
        RoostClient.Builder builder =
            RoostClient.builder()
                .peers(cluster.peers())
                .tls(cluster.tls())
                .deadline(Duration.ofSeconds(60));
        RoostClient client =
            entryEach ? builder.batchSize(1).writeGateway(false).build() : builder.build();
        // A first read makes the client find the leader, so that the writes do not all start
        // with a round of redirects.
        client.listUsers("", 1, "");
        clients.add(client);
        windows.add(new Semaphore(IN_FLIGHT_PER_CLIENT));
      }
      for (int i = 0; i < count; i++) {
        Semaphore window = windows.get(i % CLIENTS);
        window.acquire();
        clients
            .get(i % CLIENTS)
            .kvPutAsync(prefix + (i % keys), value)
            .whenComplete(
                (entry, failure) -> {
                  if (failure != null) {
                    failures.incrementAndGet();
                    firstFailure.compareAndSet(null, failure);
                  }
                  window.release();
                });
      }
      for (Semaphore window : windows) {
        assertThat(
                window.tryAcquire(
                    IN_FLIGHT_PER_CLIENT, TestCluster.PATIENCE.toSeconds(), TimeUnit.SECONDS))
            .as("the last writes completed")
            .isTrue();
      }
    } finally {
      clients.forEach(RoostClient::close);
    }
    assertThat(failures.get()).as("failed writes, the first: %s", firstFailure.get()).isZero();
  }
}

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
 * seconds, not minutes. Each client batches its concurrent writes, so they take fewer log entries
 * than writes.
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
    byte[] value = "v".repeat(valueBytes).getBytes(StandardCharsets.UTF_8);
    AtomicLong failures = new AtomicLong();
    AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    List<RoostClient> clients = new ArrayList<>();
    List<Semaphore> windows = new ArrayList<>();
    try {
      for (int c = 0; c < CLIENTS; c++) {
        RoostClient client =
            RoostClient.builder().peers(cluster.peers()).deadline(Duration.ofSeconds(60)).build();
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

package dev.roost.chaos.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.proto.Post;
import dev.roost.testkit.PostAudit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A steady write load: {@code n} writer threads, each with its own {@link RoostClient} on the whole
 * peer list, each posting {@code writer<i>-<seq>} as user {@code writer<i>} one post at a time, as
 * fast as the cluster acknowledges. Records what was acknowledged (with the post id the cluster
 * gave it), what ended with outcome unknown, and what failed definitely; {@link #checkAgainst} then
 * checks the cluster's posts against that record.
 */
final class PostWriters implements AutoCloseable {
  private final List<Thread> threads = new ArrayList<>();
  private final List<RoostClient> clients = new ArrayList<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicLong acks = new AtomicLong();
  private final Map<String, Long> acknowledged = new ConcurrentHashMap<>();
  private final Map<String, RoostException> unknown = new ConcurrentHashMap<>();
  private final Map<String, RoostException> failed = new ConcurrentHashMap<>();
  private final int writers;

  /**
   * Registers the writers' users and starts {@code writers} threads.
   *
   * @param deadline each client's per-call deadline
   */
  PostWriters(TestCluster cluster, int writers, Duration deadline) {
    this.writers = writers;
    try (RoostClient setup = cluster.client(Duration.ofSeconds(30))) {
      for (int i = 0; i < writers; i++) {
        setup.registerUser(user(i), "");
      }
    }
    for (int i = 0; i < writers; i++) {
      RoostClient client = cluster.client(deadline);
      clients.add(client);
      String user = user(i);
      Thread t = new Thread(() -> write(client, user), "writer-" + user);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  static String user(int i) {
    return "writer" + i;
  }

  private void write(RoostClient client, String user) {
    for (long seq = 1; !stop.get(); seq++) {
      String text = user + "-" + seq;
      try {
        Post post = client.post(user, text);
        acknowledged.put(text, post.getId());
        acks.incrementAndGet();
      } catch (RoostException e) {
        (e.outcomeUnknown() ? unknown : failed).put(text, e);
      }
    }
  }

  /** Writes acknowledged so far. */
  long acks() {
    return acks.get();
  }

  /** Waits until {@code more} further writes have been acknowledged. */
  void awaitMoreAcks(long more) {
    long target = acks.get() + more;
    await(more + " more acknowledged writes")
        .atMost(TestCluster.PATIENCE)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> acks.get() >= target);
  }

  Map<String, RoostException> unknown() {
    return Map.copyOf(unknown);
  }

  Map<String, RoostException> failed() {
    return Map.copyOf(failed);
  }

  /** Stops the writers after their current call and closes their clients; idempotent. */
  void stop() {
    stop.set(true);
    for (Thread t : threads) {
      try {
        t.join(TestCluster.PATIENCE.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    clients.forEach(RoostClient::close);
  }

  @Override
  public void close() {
    stop();
  }

  /**
   * Checks the cluster's posts against what the writers saw: every acknowledged write is present
   * exactly once, with the id it was acknowledged with; a write with outcome unknown is present at
   * most once; a write that failed definitely is absent; nothing else is there.
   */
  void checkAgainst(RoostClient reader) {
    List<Post> posts = new ArrayList<>();
    for (int i = 0; i < writers; i++) {
      posts.addAll(reader.allPosts(user(i)).toList());
    }
    PostAudit audit = PostAudit.of(posts, acknowledged, unknown.keySet(), failed.keySet());
    assertThat(audit.clean()).as(audit.summary()).isTrue();
  }
}

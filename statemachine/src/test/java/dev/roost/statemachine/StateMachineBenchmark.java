package dev.roost.statemachine;

import dev.roost.domain.Command;
import dev.roost.domain.Limits;
import dev.roost.domain.Query;
import dev.roost.domain.Query.PageRequest;
import dev.roost.domain.Quotas;
import dev.roost.domain.RequestId;
import dev.roost.domain.Result;
import dev.roost.domain.RoostState;
import dev.roost.domain.SnapshotFormat;
import dev.roost.proto.CreatePost;
import dev.roost.proto.Reply;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * Figures for the state machine, printed, never asserted. Run it with
 *
 * <pre>./statemachine/bench.sh</pre>
 *
 * It measures, on one thread: pure domain apply throughput; apply through the adapter's wire
 * decoding and reply encoding; timeline latency for a reader following 500 accounts; the state
 * digest's latency at full size; snapshot write and load time and size at 100k users and 1M posts;
 * and heap bytes per user, follow edge, post and key.
 */
public final class StateMachineBenchmark {
  private static final int USERS = 100_000;
  private static final int POSTS = 1_000_000;
  private static final int FOLLOWS_PER_USER = 10;

  private StateMachineBenchmark() {}

  /** Runs every measurement and prints one line per figure. */
  public static void main(String[] args) throws IOException {
    System.out.printf(
        "Roost state machine benchmark: %d users, %d posts, java %s, %d cpus%n",
        USERS,
        POSTS,
        System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors());
    applyThroughput();
    adapterThroughput();
    RoostState big = bigState();
    timelineLatency(big);
    digest(big);
    snapshot(big);
    heapPerItem();
  }

  // The quotas' defaults would stop the measurements short of their sizes.
  private static final Limits UNBOUNDED =
      Limits.DEFAULT.withQuotas(
          new Quotas(
              Long.MAX_VALUE,
              Long.MAX_VALUE,
              Long.MAX_VALUE,
              Integer.MAX_VALUE,
              Long.MAX_VALUE,
              Long.MAX_VALUE));

  private static String handle(int i) {
    return "user" + i;
  }

  private static String text(int i) {
    return "post number " + i + " says hello to everyone who follows along";
  }

  private static long index;
  private static long sequence;

  private static Result apply(RoostState s, Command c) {
    index++;
    sequence++;
    // One client that has seen every earlier reply: its session keeps one.
    return s.apply(new RequestId(1, sequence, sequence), c, index, index);
  }

  private static RoostState newState() {
    RoostState s = new RoostState(UNBOUNDED);
    s.openSession(1, 0);
    return s;
  }

  private static void applyThroughput() {
    for (int round = 0; round < 3; round++) {
      RoostState s = newState();
      for (int u = 0; u < 1000; u++) {
        apply(s, new Command.RegisterUser(handle(u), ""));
      }
      int n = 1_000_000;
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        apply(s, new Command.CreatePost(handle(i % 1000), text(i)));
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          Locale.ROOT, "domain apply (post), round %d: %,.0f commands/s%n", round + 1, n / seconds);
    }
  }

  private static void adapterThroughput() {
    RoostState s = newState();
    for (int u = 0; u < 1000; u++) {
      apply(s, new Command.RegisterUser(handle(u), ""));
    }
    int n = 500_000;
    byte[][] encoded = new byte[n][];
    for (int i = 0; i < n; i++) {
      encoded[i] =
          dev.roost.proto.Command.newBuilder()
              .setRequestId(
                  dev.roost.proto.RequestId.newBuilder()
                      .setSession(1)
                      .setSequence(sequence + i + 1)
                      .setFirstUnanswered(sequence + i + 1))
              .setTimestampMs(i)
              .setCreatePost(CreatePost.newBuilder().setAuthor(handle(i % 1000)).setText(text(i)))
              .build()
              .toByteArray();
    }
    long start = System.nanoTime();
    long bytes = 0;
    for (int i = 0; i < n; i++) {
      try {
        dev.roost.proto.Command c = dev.roost.proto.Command.parseFrom(encoded[i]);
        index++;
        Result r =
            s.apply(ProtoCodec.requestId(c), ProtoCodec.command(c), index, c.getTimestampMs());
        Reply reply = ProtoCodec.reply(r, index);
        bytes += reply.toByteArray().length;
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "adapter apply (decode + apply + encode reply): %,.0f commands/s (%d reply bytes)%n",
        n / seconds,
        bytes);
  }

  private static RoostState bigState() {
    long start = System.nanoTime();
    RoostState s = newState();
    for (int u = 0; u < USERS; u++) {
      apply(s, new Command.RegisterUser(handle(u), "User " + u));
    }
    for (int u = 0; u < USERS; u++) {
      for (int f = 1; f <= FOLLOWS_PER_USER; f++) {
        apply(s, new Command.Follow(handle(u), handle((u + f * 7919) % USERS)));
      }
    }
    for (int f = 1; f <= 500; f++) {
      apply(s, new Command.Follow(handle(0), handle(f * 13)));
    }
    for (int i = 0; i < POSTS; i++) {
      apply(s, new Command.CreatePost(handle(i % USERS), text(i)));
    }
    System.out.printf(
        Locale.ROOT,
        "built state: %d users, %d follow edges, %d posts in %.1f s%n",
        s.userCount(),
        s.followEdgeCount(),
        s.postCount(),
        (System.nanoTime() - start) / 1e9);
    return s;
  }

  private static void timelineLatency(RoostState s) {
    Histogram h = new Histogram(3);
    Query first = new Query.GetTimeline(handle(0), new PageRequest(50, ""));
    for (int i = 0; i < 20_000; i++) {
      long t = System.nanoTime();
      Result r = s.query(first);
      h.recordValue((System.nanoTime() - t) / 1000);
      if (!r.isOk()) {
        throw new IllegalStateException(r.toString());
      }
    }
    h.reset();
    for (int i = 0; i < 50_000; i++) {
      long t = System.nanoTime();
      s.query(first);
      h.recordValue((System.nanoTime() - t) / 1000);
    }
    System.out.printf(
        Locale.ROOT,
        "timeline (reader follows %d accounts, 50 posts/page): p50 %d us, p99 %d us, max %d us%n",
        ((dev.roost.domain.Payload.User) s.query(new Query.GetUser(handle(0))).payload())
            .followingCount(),
        h.getValueAtPercentile(50),
        h.getValueAtPercentile(99),
        h.getMaxValue());
  }

  private static void digest(RoostState s) {
    Histogram h = new Histogram(3);
    String first = s.digest().sha256();
    for (int i = 0; i < 20; i++) {
      long t = System.nanoTime();
      String again = s.digest().sha256();
      h.recordValue((System.nanoTime() - t) / 1000);
      if (!again.equals(first)) {
        throw new IllegalStateException("the digest of an unchanged state changed");
      }
    }
    System.out.printf(
        Locale.ROOT,
        "state digest (full state): p50 %d us, max %d us%n",
        h.getValueAtPercentile(50),
        h.getMaxValue());
  }

  private static void snapshot(RoostState s) throws IOException {
    Path file = Files.createTempFile("roost-bench", ".snapshot");
    try {
      long start = System.nanoTime();
      try (OutputStream out = Files.newOutputStream(file)) {
        SnapshotFormat.write(s, out);
      }
      double writeSeconds = (System.nanoTime() - start) / 1e9;
      start = System.nanoTime();
      RoostState loaded;
      long length;
      try (InputStream in = Files.newInputStream(file)) {
        length = SnapshotFormat.verify(in);
      }
      try (InputStream in = Files.newInputStream(file)) {
        loaded = SnapshotFormat.read(in, length);
      }
      double loadSeconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          Locale.ROOT,
          "snapshot at %d users / %d posts: %.1f MB, write %.2f s, load %.2f s (loaded %d posts)%n",
          s.userCount(),
          s.postCount(),
          Files.size(file) / 1e6,
          writeSeconds,
          loadSeconds,
          loaded.postCount());
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /**
   * Heap per user, follow edge, post and key, as docs/operations.md sizes the quotas with: each
   * measured as the heap a state grows by when that many more are applied.
   */
  private static void heapPerItem() {
    RoostState s = newState();
    long before = usedHeap();
    for (int u = 0; u < USERS; u++) {
      apply(s, new Command.RegisterUser(handle(u), ""));
    }
    long users = usedHeap();
    for (int u = 0; u < USERS; u++) {
      for (int f = 1; f <= FOLLOWS_PER_USER; f++) {
        apply(s, new Command.Follow(handle(u), handle((u + f) % USERS)));
      }
    }
    long follows = usedHeap();
    for (int i = 0; i < POSTS; i++) {
      apply(s, new Command.CreatePost(handle(i % USERS), text(i)));
    }
    long posts = usedHeap();
    byte[] value = new byte[100];
    for (int i = 0; i < POSTS; i++) {
      apply(s, new Command.KvPut(String.format(Locale.ROOT, "key/%08d", i), value));
    }
    long keys = usedHeap();
    System.out.printf(
        Locale.ROOT,
        "heap per user (%d-char handle, no display name): %d bytes%n",
        handle(USERS / 2).length(),
        (users - before) / USERS);
    System.out.printf(
        Locale.ROOT, "heap per follow edge: %d bytes%n", (follows - users) / s.followEdgeCount());
    System.out.printf(
        Locale.ROOT,
        "heap per post (%d-char text): %d bytes%n",
        text(POSTS / 2).length(),
        (posts - follows) / s.postCount());
    System.out.printf(
        Locale.ROOT,
        "heap per key (12-char key, %d-byte value): %d bytes%n",
        value.length,
        (keys - posts) / s.keyCount());
  }

  private static long usedHeap() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 4; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }
}

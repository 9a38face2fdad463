package dev.roost.cli;

import dev.roost.client.ReadConsistency;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Drives one workload against a cluster and measures it: closed loop (each of {@code clients x
 * inFlight} callers sends its next request when the previous one is answered) or open loop (a
 * target rate; latency counted from when each request was due, so a stall is charged to every
 * request it delayed — the coordinated-omission correction). Bounded in time; talks only to the
 * given peers.
 */
final class LoadGenerator {
  /** The workloads. */
  enum Workload {
    KV_PUT,
    KV_GET,
    POST,
    TIMELINE,
    MIXED
  }

  /** What to run. */
  record Options(
      String peers,
      Workload workload,
      int clients,
      int inFlight,
      Duration duration,
      Duration warmup,
      int valueSize,
      int keys,
      int users,
      int follows,
      double rate,
      int readPercent,
      ReadConsistency consistency,
      long seed) {}

  /** The measured outcome. */
  record Result(
      Options options,
      long ops,
      double seconds,
      Histogram latencyMicros,
      Map<String, Long> errors) {
    double throughput() {
      return ops / seconds;
    }
  }

  /** Writes in flight while creating the data a workload reads. */
  private static final int PREPARE_IN_FLIGHT = 64;

  private final Options o;
  private final PrintWriter progress;
  private final Recorder recorder = new Recorder(3_600_000_000L, 3);
  private final Histogram total = new Histogram(3_600_000_000L, 3);
  private final LongAdder ops = new LongAdder();
  private final LongAdder warmupOps = new LongAdder();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final AtomicBoolean measuring = new AtomicBoolean();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicLong postSequence = new AtomicLong();
  private final byte[] value;

  LoadGenerator(Options options, PrintWriter progress) {
    this.o = options;
    this.progress = progress;
    this.value = new byte[options.valueSize()];
    new SplittableRandom(options.seed()).nextBytes(value);
  }

  Result run() throws InterruptedException {
    List<RoostClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < o.clients(); i++) {
        clients.add(
            RoostClient.builder()
                .peers(o.peers())
                .deadline(Duration.ofSeconds(10))
                .readConsistency(o.consistency())
                .maxConcurrentCalls(Math.max(1, o.inFlight()))
                .build());
      }
      try (RoostClient loader =
          RoostClient.builder()
              .peers(o.peers())
              .deadline(Duration.ofSeconds(30))
              .maxConcurrentCalls(PREPARE_IN_FLIGHT)
              .build()) {
        prepare(loader);
      }
      return measure(clients);
    } finally {
      clients.forEach(RoostClient::close);
    }
  }

  /** Creates what the reads need: keys for kv-get, users and follows for posts and timelines. */
  private void prepare(RoostClient client) {
    boolean kv = o.workload() == Workload.KV_GET || o.workload() == Workload.MIXED;
    boolean social = o.workload() == Workload.POST || o.workload() == Workload.TIMELINE;
    List<CompletableFuture<?>> pending = new ArrayList<>();
    if (kv) {
      progress.printf("preparing %d keys...%n", o.keys());
      progress.flush();
      for (int k = 0; k < o.keys(); k++) {
        pending.add(client.kvPutAsync(key(k), value));
        drain(pending, PREPARE_IN_FLIGHT * 4);
      }
    }
    if (social) {
      progress.printf("preparing %d users following %d each...%n", o.users(), o.follows());
      progress.flush();
      for (int u = 0; u < o.users(); u++) {
        pending.add(
            client
                .registerUserAsync(user(u), "")
                .exceptionally(e -> null)); // already there from an earlier run
        drain(pending, PREPARE_IN_FLIGHT * 4);
      }
      drain(pending, 0);
      for (int u = 0; u < o.users(); u++) {
        for (int f = 1; f <= o.follows(); f++) {
          pending.add(client.followAsync(user(u), user((u + f * 7919) % o.users())));
          drain(pending, PREPARE_IN_FLIGHT * 4);
        }
      }
      for (int u = 0; u < Math.min(o.users(), 2000); u++) {
        pending.add(client.postAsync(user(u), "hello from " + user(u)));
        drain(pending, PREPARE_IN_FLIGHT * 4);
      }
    }
    drain(pending, 0);
  }

  private static void drain(List<CompletableFuture<?>> pending, int keep) {
    if (pending.size() > keep) {
      pending.forEach(CompletableFuture::join);
      pending.clear();
    }
  }

  private Result measure(List<RoostClient> clients) throws InterruptedException {
    int callers = o.clients() * Math.max(1, o.inFlight());
    List<Thread> threads = new ArrayList<>();
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
    long start = System.nanoTime();
    long warmupEnd = start + o.warmup().toNanos();
    long end = warmupEnd + o.duration().toNanos();
    ticker.scheduleAtFixedRate(() -> report(start), 1, 1, TimeUnit.SECONDS);
    // In open loop, each caller takes every callers-th due time of the whole schedule.
    long intervalNanos = o.rate() > 0 ? (long) (1e9 / o.rate() * callers) : 0;
    for (int i = 0; i < callers; i++) {
      RoostClient client = clients.get(i % clients.size());
      SplittableRandom random = new SplittableRandom(o.seed() + i);
      long firstDue = start + (intervalNanos == 0 ? 0 : intervalNanos * i / callers);
      Thread t = new Thread(() -> loop(client, random, firstDue, intervalNanos, end), "bench-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    Thread.sleep(Math.max(0, (warmupEnd - System.nanoTime()) / 1_000_000));
    measuring.set(true);
    long measureStart = System.nanoTime();
    Thread.sleep(Math.max(0, (end - System.nanoTime()) / 1_000_000));
    measuring.set(false);
    double seconds = (System.nanoTime() - measureStart) / 1e9;
    stop.set(true);
    ticker.shutdown();
    ticker.awaitTermination(5, TimeUnit.SECONDS);
    total.add(recorder.getIntervalHistogram());
    for (Thread t : threads) {
      t.join(15_000);
    }
    Map<String, Long> errorCounts = new TreeMap<>();
    errors.forEach((code, n) -> errorCounts.put(code, n.sum()));
    return new Result(o, ops.sum(), seconds, total, errorCounts);
  }

  private void loop(
      RoostClient client, SplittableRandom random, long due, long interval, long end) {
    while (!stop.get() && System.nanoTime() < end) {
      if (interval > 0) {
        long wait = due - System.nanoTime();
        if (wait > 0) {
          sleepNanos(wait);
        }
      }
      long started = interval > 0 ? due : System.nanoTime();
      try {
        operation(client, random);
        record(started);
      } catch (RoostException e) {
        if (measuring.get()) {
          errors
              .computeIfAbsent(
                  e.code() + (e.outcomeUnknown() ? " (unknown)" : ""), k -> new LongAdder())
              .increment();
        }
      }
      due += interval;
    }
  }

  private void record(long startedNanos) {
    if (measuring.get()) {
      recorder.recordValue(Math.max(1, (System.nanoTime() - startedNanos) / 1000));
      ops.increment();
    } else {
      warmupOps.increment();
    }
  }

  private void operation(RoostClient client, SplittableRandom random) {
    switch (o.workload()) {
      case KV_PUT -> client.kvPut(key(random.nextInt(o.keys())), value);
      case KV_GET -> client.kvGet(key(random.nextInt(o.keys())));
      case POST ->
          client.post(user(random.nextInt(o.users())), "post " + postSequence.incrementAndGet());
      case TIMELINE -> client.timeline(user(random.nextInt(o.users())), 20, "");
      case MIXED -> {
        if (random.nextInt(100) < o.readPercent()) {
          client.kvGet(key(random.nextInt(o.keys())));
        } else {
          client.kvPut(key(random.nextInt(o.keys())), value);
        }
      }
    }
  }

  /** Prints a progress line; runs on the ticker thread, the only reader of the recorder. */
  private void report(long start) {
    Histogram interval = recorder.getIntervalHistogram();
    total.add(interval);
    progress.printf(
        "%5.0fs %s %7d ops/s  p50 %6.1f ms  p99 %6.1f ms  errors %d%n",
        (System.nanoTime() - start) / 1e9,
        measuring.get() ? "measure" : "warm-up",
        measuring.get() ? interval.getTotalCount() : warmupOps.sumThenReset(),
        interval.getValueAtPercentile(50) / 1000.0,
        interval.getValueAtPercentile(99) / 1000.0,
        errors.values().stream().mapToLong(LongAdder::sum).sum());
    progress.flush();
  }

  private static void sleepNanos(long nanos) {
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String key(int k) {
    return "bench/" + k;
  }

  static String user(int u) {
    return "bench_user_" + u;
  }
}

package dev.roost.bench;

import dev.roost.bench.LoadGenerator.Caller;
import dev.roost.bench.LoadGenerator.Load;
import dev.roost.bench.LoadGenerator.Result;
import dev.roost.client.ReadConsistency;
import dev.roost.client.RoostClient;
import dev.roost.client.Tls;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Roost side of {@code roost bench}: creates what a workload reads, opens {@code connections}
 * {@link RoostClient}s shared round-robin by the callers, and measures the workload's requests with
 * {@link LoadGenerator}. Talks only to the given peers.
 */
public final class RoostLoad {
  /** The workloads. */
  public enum Workload {
    KV_PUT,
    KV_GET,
    POST,
    TIMELINE,
    MIXED;

    /** The subcommand's name, e.g. {@code kv-put}. */
    public String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /**
   * What to run.
   *
   * @param peers {@code id=host:port/port,...}, the peer and client addresses
   * @param tls how to reach them
   */
  public record Options(
      String peers,
      Tls tls,
      Workload workload,
      int clients,
      int inFlight,
      int connections,
      Duration duration,
      Duration warmup,
      int valueSize,
      int keys,
      int users,
      int follows,
      double rate,
      int readPercent,
      ReadConsistency consistency,
      long seed,
      int batchSize,
      int batchesInFlight,
      boolean writeGateway) {
    /** The store-independent part, as reported. */
    public Load load() {
      return new Load(
          writeGateway ? "roost" : "roost (no gateway)",
          workload.label(),
          clients,
          inFlight,
          connections,
          consistency.name().toLowerCase(Locale.ROOT),
          duration,
          warmup,
          rate);
    }
  }

  /** Writes in flight while creating the data a workload reads. */
  private static final int PREPARE_IN_FLIGHT = 64;

  private final Options o;
  private final PrintWriter progress;
  private final AtomicLong postSequence = new AtomicLong();
  private final byte[] value;

  public RoostLoad(Options options, PrintWriter progress) {
    this.o = options;
    this.progress = progress;
    this.value = new byte[options.valueSize()];
    new SplittableRandom(options.seed()).nextBytes(value);
  }

  public Result run() throws InterruptedException {
    return run(() -> {});
  }

  /**
   * Prepares, tells {@code prepared}, then measures: for a benchmark that disturbs the cluster only
   * while it is measured.
   */
  public Result run(Runnable prepared) throws InterruptedException {
    Load load = o.load();
    List<RoostClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < o.connections(); i++) {
        clients.add(
            RoostClient.builder()
                .peers(o.peers())
                .tls(o.tls())
                .deadline(Duration.ofSeconds(10))
                .readConsistency(o.consistency())
                .batchSize(o.batchSize())
                .batchesInFlight(o.batchesInFlight())
                .writeGateway(o.writeGateway())
                .build());
      }
      try (RoostClient loader =
          RoostClient.builder()
              .peers(o.peers())
              .tls(o.tls())
              .deadline(Duration.ofSeconds(30))
              .build()) {
        prepare(loader);
      }
      prepared.run();
      return LoadGenerator.measure(
          load,
          i -> caller(clients.get(i % clients.size()), new SplittableRandom(o.seed() + i)),
          progress);
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

  private Caller caller(RoostClient client, SplittableRandom random) {
    return switch (o.workload()) {
      case KV_PUT -> () -> client.kvPut(key(random.nextInt(o.keys())), value);
      case KV_GET -> () -> client.kvGet(key(random.nextInt(o.keys())));
      case POST ->
          () ->
              client.post(
                  user(random.nextInt(o.users())), "post " + postSequence.incrementAndGet());
      case TIMELINE -> () -> client.timeline(user(random.nextInt(o.users())), 20, "");
      case MIXED ->
          () -> {
            if (random.nextInt(100) < o.readPercent()) {
              client.kvGet(key(random.nextInt(o.keys())));
            } else {
              client.kvPut(key(random.nextInt(o.keys())), value);
            }
          };
    };
  }

  static String key(int k) {
    return "bench/" + k;
  }

  static String user(int u) {
    return "bench_user_" + u;
  }
}

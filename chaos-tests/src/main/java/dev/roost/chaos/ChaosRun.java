package dev.roost.chaos;

import dev.roost.chaos.checker.CheckResult;
import dev.roost.chaos.checker.Checker;
import dev.roost.chaos.checker.Convergence;
import dev.roost.chaos.checker.Verdict;
import dev.roost.chaos.cluster.ProcessCluster;
import dev.roost.chaos.history.History;
import dev.roost.chaos.history.HistoryWriter;
import dev.roost.chaos.nemesis.Nemesis;
import dev.roost.chaos.nemesis.Schedule;
import dev.roost.chaos.report.RunReport;
import dev.roost.chaos.workload.KvWorkload;
import dev.roost.chaos.workload.Recorder;
import dev.roost.chaos.workload.SocialWorkload;
import dev.roost.chaos.workload.Workload;
import dev.roost.client.RoostClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chaos run: starts a cluster, runs the workload's clients while the nemesis injects faults,
 * heals, makes the final reads, checks that the members converge, stops the cluster, then checks
 * the history file and writes the report. The checkers read the history back from the file, never
 * the harness's memory.
 */
public final class ChaosRun {
  private static final Logger LOG = LoggerFactory.getLogger(ChaosRun.class);

  /**
   * The deadline of each client call: long enough to ride out an election, short enough to leave an
   * operation {@code info} rather than stall a client for a whole fault.
   */
  static final Duration CLIENT_DEADLINE = Duration.ofSeconds(3);

  /**
   * How long the members get, once writes stop after the final heal, to come back to one applied
   * index and state: catching up by log or by snapshot takes about 6 s here (docs/performance.md),
   * so this leaves a busy machine ten times that.
   */
  static final Duration CONVERGENCE_BOUND = Duration.ofSeconds(60);

  private ChaosRun() {}

  /** What a run concluded, and where its files are. */
  public record Outcome(Verdict verdict, List<CheckResult> results, Path dir, int skippedFaults) {
    /** The runner's exit status: 0 valid, 1 anomaly found, 2 unknown. */
    public int exitCode() {
      return switch (verdict) {
        case VALID -> 0;
        case INVALID -> 1;
        case UNKNOWN -> 2;
      };
    }
  }

  /** The workload named on the command line. */
  static Workload workload(String name, int clients) {
    return switch (name) {
      case "kv" -> new KvWorkload();
      case "social" -> new SocialWorkload(Math.max(4, clients));
      default ->
          throw new IllegalArgumentException("unknown workload '" + name + "'; use kv or social");
    };
  }

  /**
   * Runs and checks.
   *
   * @throws IOException when the harness itself fails (cluster does not start, files)
   */
  public static Outcome run(RunOptions o) throws IOException, InterruptedException {
    long started = System.nanoTime();
    Workload workload = workload(o.workload(), o.clients());
    Files.createDirectories(o.out());
    Path historyFile = o.out().resolve("history.jsonl");
    Schedule schedule =
        Schedule.plan(o.seed(), o.nemesis(), o.time().toMillis(), o.faultTime(), o.healTime());
    boolean namespaces = o.namespaces() && ProcessCluster.namespacesAvailable();
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("workload", o.workload());
    facts.put("nemesis", o.nemesis().isEmpty() ? "none" : String.join(",", o.nemesis()));
    facts.put("seed", o.seed());
    facts.put("time", o.time().toMillis() + " ms");
    facts.put("clients", o.clients());
    facts.put("nodes", o.nodes());
    facts.put("command", o.command());
    if (o.nemesis().contains("partition") && !namespaces) {
      String why =
          "PARTITIONS SKIPPED: network namespaces need root and iproute2 ("
              + (o.namespaces() ? "not available here" : "--no-namespaces given")
              + ")";
      LOG.warn(why);
      facts.put("warning", why);
    }
    int skipped;
    CheckResult convergence;
    try (ProcessCluster cluster =
        ProcessCluster.create(
            o.nodes(), o.out().resolve("cluster"), o.serverJar(), o.serverArgs(), namespaces)) {
      facts.put("cluster", cluster.describe());
      cluster.startAll();
      cluster.awaitReady(Duration.ofSeconds(90));
      long origin = System.nanoTime();
      try (HistoryWriter writer = new HistoryWriter(historyFile, origin)) {
        Recorder recorder = new Recorder(writer);
        try (RoostClient client = client(cluster, o)) {
          workload.setup(o.clients(), client, recorder);
        }
        Nemesis nemesis = drive(o, workload, cluster, schedule, writer, recorder);
        skipped = nemesis.skipped();
        facts.put("skipped faults", skipped);
        nemesis.healAll();
        try {
          cluster.awaitReady(Duration.ofSeconds(60));
        } catch (IOException e) {
          LOG.warn(
              "cluster not fully ready after healing; final reads may fail: {}", e.getMessage());
        }
        try (RoostClient client = client(cluster, o)) {
          workload.finalReads(o.clients(), client, recorder);
        }
      }
      convergence = Convergence.check(cluster, CONVERGENCE_BOUND, Convergence.SYSTEM);
    }
    facts.put("workload and cluster time", seconds(System.nanoTime() - started));
    History history = History.read(historyFile);
    List<CheckResult> results = new ArrayList<>();
    Verdict verdict = Verdict.VALID;
    for (Checker c : workload.checkers(o.checkTime())) {
      CheckResult r = c.check(history);
      LOG.info("{}: {} ({})", r.checker(), r.verdict(), r.note());
      results.add(r);
      verdict = verdict.and(r.verdict());
    }
    LOG.info("{}: {} ({})", convergence.checker(), convergence.verdict(), convergence.note());
    results.add(convergence);
    verdict = verdict.and(convergence.verdict());
    facts.put("total time", seconds(System.nanoTime() - started));
    new RunReport(facts, schedule.steps(), results, verdict).write(o.out(), history);
    return new Outcome(verdict, results, o.out(), skipped);
  }

  /** Runs the clients and the nemesis for the run's time; returns the nemesis, to heal. */
  private static Nemesis drive(
      RunOptions o,
      Workload workload,
      ProcessCluster cluster,
      Schedule schedule,
      HistoryWriter writer,
      Recorder recorder)
      throws InterruptedException {
    AtomicBoolean done = new AtomicBoolean();
    Nemesis nemesis = new Nemesis(cluster, schedule, writer, System.nanoTime());
    Thread nemesisThread = new Thread(nemesis, "nemesis");
    List<Thread> clients = new ArrayList<>();
    for (int p = 0; p < o.clients(); p++) {
      int process = p;
      Random random = new Random(o.seed() * 1_000_003L + p);
      clients.add(
          new Thread(
              () -> {
                try (RoostClient client = client(cluster, o)) {
                  workload.run(process, client, recorder, random, done::get);
                }
              },
              "client-" + p));
    }
    nemesisThread.start();
    clients.forEach(Thread::start);
    Thread.sleep(o.time().toMillis());
    done.set(true);
    nemesis.stop();
    nemesisThread.join();
    for (Thread t : clients) {
      // A client finishes its current call within its deadline.
      t.join(TimeUnit.SECONDS.toMillis(30));
    }
    return nemesis;
  }

  private static RoostClient client(ProcessCluster cluster, RunOptions o) {
    return RoostClient.builder()
        .peers(cluster.peers())
        .tls(cluster.tls())
        .deadline(CLIENT_DEADLINE)
        .readConsistency(o.readConsistency())
        .build();
  }

  private static String seconds(long nanos) {
    return String.format("%.1f s", nanos / 1e9);
  }
}

package dev.roost.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roost.cli.CliException;
import dev.roost.cli.Output;
import dev.roost.cli.Verb;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.proto.MemberStatus;
import dev.roost.testkit.ClusterException;
import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LocalCluster.Node;
import dev.roost.testkit.PostAudit;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code roost bench failover}: how long Roost is without a leader, measured on throwaway local
 * clusters of real server processes with the servers' default timeouts.
 *
 * <ol>
 *   <li><b>Failover</b>, {@code --trials} times: {@code --writers} clients post steadily; the
 *       leader is killed with SIGKILL; the figure is the time from the kill to the first write
 *       acknowledged by the new leader (as the client library reports the server that answered).
 *       Beside it, the time until polling {@code /status} first shows a new leader that is ready
 *       (it has committed an entry of its term): the Raft part of the failover, the rest being the
 *       clients finding it; polling lags, so this can read later than the first acknowledgement.
 *       Then the killed node is restarted, and every writer's posts are read back: acknowledged
 *       posts missing are <em>lost</em>, posts present twice are <em>duplicated</em>. Both must be
 *       0; the command exits 1 otherwise.
 *   <li><b>Catch-up</b>, once by log and once by snapshot: a follower is stopped, {@code
 *       --catch-up-writes} key-value puts are made, and the follower is started again; the figure
 *       is the time from its start to its {@code /ready} turning true. By log on a cluster with the
 *       default snapshot threshold (the leader still has every entry); by snapshot with {@code
 *       --snapshot-threshold 1000}, where the leader has purged the entries the follower lacks and
 *       must send its snapshot. How it actually caught up is read from the follower's log and
 *       shown.
 * </ol>
 */
@Command(
    name = "failover",
    description =
        "Failover time (kill -9 of the leader under load) and follower catch-up time, on"
            + " throwaway local clusters with default timeouts (figures only).")
final class FailoverBench extends Verb {
  private static final Duration READY_TIMEOUT = Throwaway.READY_TIMEOUT;

  /** How long writers may go without an acknowledgement from a new leader before a trial fails. */
  private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(60);

  /**
   * Snapshot threshold of the by-snapshot catch-up cluster. Ratis purges whole closed segments (32
   * MB) only, up to this many entries below the snapshot, and the client batches puts (100k puts of
   * 512 bytes are about 14k entries), so the threshold must be well below the entries the follower
   * misses for its log to be gone.
   */
  private static final int SNAPSHOT_THRESHOLD = 1_000;

  private static final int LOAD_CLIENTS = 8;
  private static final int LOAD_IN_FLIGHT_PER_CLIENT = 16;

  @Option(
      names = "--trials",
      defaultValue = "20",
      description = "Leader kills to measure (default: ${DEFAULT-VALUE}).")
  int trials;

  @Option(
      names = "--writers",
      defaultValue = "4",
      description = "Clients posting during each trial (default: ${DEFAULT-VALUE}).")
  int writers;

  @Option(
      names = "--catch-up-writes",
      defaultValue = "100000",
      description =
          "Writes a stopped follower misses before it is restarted; 0 skips the catch-up figures"
              + " (default: ${DEFAULT-VALUE}).")
  int catchUpWrites;

  @Option(
      names = "--value-size",
      defaultValue = "512",
      description = "Value bytes of the catch-up writes (default: ${DEFAULT-VALUE}).")
  int valueSize;

  private PrintWriter progress;
  private boolean failed;

  /** The outcome of the failover trials. */
  record Failover(
      int trials,
      Histogram millis,
      Histogram electedMillis,
      long acknowledged,
      long lost,
      long duplicated,
      long unknown) {}

  /** One catch-up measurement. */
  record CatchUp(
      String method, int writes, long entriesBehind, long readyMillis, String caughtUpBy) {}

  @Override
  public Integer call() throws Exception {
    run();
    return failed ? 1 : 0;
  }

  @Override
  public void run() throws Exception {
    if (trials < 1 || writers < 1 || catchUpWrites < 0 || valueSize < 0) {
      throw CliException.usage(
          "--trials and --writers must be positive, --catch-up-writes and --value-size not"
              + " negative");
    }
    progress = root().err();
    Failover failover = failover();
    List<CatchUp> catchUps = new ArrayList<>();
    if (catchUpWrites > 0) {
      catchUps.add(catchUp("log", List.of()));
      catchUps.add(
          catchUp(
              "snapshot", List.of("--snapshot-threshold", Integer.toString(SNAPSHOT_THRESHOLD))));
    }
    if (failover.lost() > 0 || failover.duplicated() > 0) {
      failed = true;
      progress.println(
          "error: "
              + failover.lost()
              + " acknowledged write(s) lost and "
              + failover.duplicated()
              + " duplicated; both must be 0");
    }
    print(failover, catchUps);
  }

  // ---- failover ----

  private Failover failover() throws Exception {
    Histogram millis = new Histogram(TimeUnit.MINUTES.toMillis(10), 3);
    Histogram electedMillis = new Histogram(TimeUnit.MINUTES.toMillis(10), 3);
    long acknowledged = 0;
    long lost = 0;
    long duplicated = 0;
    long unknown = 0;
    try (Throwaway t = Throwaway.start("failover", List.of(), progress)) {
      for (int trial = 1; trial <= trials; trial++) {
        Trial result = trial(t, trial);
        millis.recordValue(result.failoverMillis);
        electedMillis.recordValue(result.electedMillis);
        acknowledged += result.acknowledged;
        lost += result.lost;
        duplicated += result.duplicated;
        unknown += result.unknown;
        progress.printf(
            Locale.ROOT,
            "trial %d/%d: killed %s; %s leader after %d ms, first write acknowledged by it after"
                + " %d ms; %d writes acknowledged, %d lost, %d duplicated%n",
            trial,
            trials,
            result.killed,
            result.newLeader,
            result.electedMillis,
            result.failoverMillis,
            result.acknowledged,
            result.lost,
            result.duplicated);
      }
    }
    return new Failover(trials, millis, electedMillis, acknowledged, lost, duplicated, unknown);
  }

  private record Trial(
      String killed,
      String newLeader,
      long electedMillis,
      long failoverMillis,
      long acknowledged,
      long lost,
      long duplicated,
      long unknown) {}

  private Trial trial(Throwaway t, int trial) throws Exception {
    LocalCluster cluster = t.cluster;
    Node leader = awaitLeader(cluster);
    List<Writer> all = new ArrayList<>();
    try (RoostClient setup = client(t, Duration.ofSeconds(30))) {
      for (int w = 0; w < writers; w++) {
        String user = "t" + trial + "_w" + w;
        setup.registerUser(user, "");
        all.add(new Writer(t, user, leader.id()));
      }
    }
    all.forEach(Writer::start);
    // Steady state first: every writer has been answered by the leader a few times.
    awaitOrFail(() -> all.stream().allMatch(w -> w.acks.get() >= 20), "writers to get going");

    long killedAt = System.nanoTime();
    all.forEach(w -> w.killedAt = killedAt);
    cluster.kill(leader);
    // When a new leader has committed an entry of its term (its /ready): the Raft part of the
    // failover, to tell it from the time the clients take to find it.
    AtomicLong elected = new AtomicLong();
    awaitOrFail(
        () -> {
          if (elected.get() == 0
              && cluster
                  .leader()
                  .filter(n -> !n.id().equals(leader.id()))
                  .filter(cluster::ready)
                  .isPresent()) {
            elected.set(System.nanoTime());
          }
          return elected.get() != 0 && all.stream().allMatch(w -> w.firstNewLeaderAck.get() != 0);
        },
        "a new leader and every writer acknowledged by it");
    all.forEach(Writer::stop);

    Writer first = all.get(0);
    for (Writer w : all) {
      if (w.firstNewLeaderAck.get() < first.firstNewLeaderAck.get()) {
        first = w;
      }
    }
    long failoverMillis = TimeUnit.NANOSECONDS.toMillis(first.firstNewLeaderAck.get() - killedAt);

    // The killed node comes back before the next trial, and the posts are checked.
    cluster.start(cluster.node(leader.id()));
    cluster.awaitReady(cluster.nodes(), READY_TIMEOUT);
    long acknowledged = 0;
    long lost = 0;
    long duplicated = 0;
    long unknown = 0;
    try (RoostClient reader = client(t, Duration.ofSeconds(30))) {
      for (Writer w : all) {
        PostAudit audit =
            PostAudit.of(reader.allPosts(w.user).toList(), w.acknowledged, w.unknown, Set.of());
        acknowledged += audit.acknowledged();
        unknown += w.unknown.size();
        lost += audit.lost().size();
        duplicated += audit.duplicated().size();
      }
    }
    return new Trial(
        leader.id(),
        first.newLeader.get(),
        TimeUnit.NANOSECONDS.toMillis(elected.get() - killedAt),
        failoverMillis,
        acknowledged,
        lost,
        duplicated,
        unknown);
  }

  /**
   * Posts one at a time as {@code user} until stopped, noting when the first acknowledgement from a
   * server other than the killed leader arrives. The client library calls its leader-change
   * listener, with the server that answered, before it completes the call.
   */
  private static final class Writer implements Runnable {
    final String user;
    final RoostClient client;
    final Thread thread;
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicLong acks = new AtomicLong();
    final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    final Set<String> unknown = ConcurrentHashMap.newKeySet();
    final AtomicReference<String> answeredBy;
    final AtomicReference<String> newLeader = new AtomicReference<>("");
    final AtomicLong firstNewLeaderAck = new AtomicLong();
    final String oldLeader;
    volatile long killedAt = Long.MAX_VALUE;

    Writer(Throwaway t, String user, String leader) {
      this.user = user;
      this.oldLeader = leader;
      this.answeredBy = new AtomicReference<>(leader);
      this.client =
          RoostClient.builder()
              .peers(t.cluster.peers())
              .tls(t.tls())
              .deadline(Duration.ofSeconds(30))
              .onLeaderChange(l -> answeredBy.set(l.id()))
              .build();
      this.thread = new Thread(this, "bench-writer-" + user);
      thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    @Override
    public void run() {
      for (long seq = 1; !stop.get(); seq++) {
        String text = user + "-" + seq;
        try {
          client.post(user, text);
        } catch (RoostException e) {
          if (e.outcomeUnknown()) {
            unknown.add(text);
          }
          continue;
        }
        long now = System.nanoTime();
        acknowledged.add(text);
        acks.incrementAndGet();
        String by = answeredBy.get();
        if (now > killedAt && !by.equals(oldLeader) && firstNewLeaderAck.get() == 0) {
          newLeader.set(by);
          firstNewLeaderAck.set(now);
        }
      }
    }

    void stop() {
      stop.set(true);
      try {
        thread.join(TimeUnit.SECONDS.toMillis(60));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      client.close();
    }
  }

  // ---- catch-up ----

  private CatchUp catchUp(String method, List<String> serverArgs) throws Exception {
    try (Throwaway t = Throwaway.start("catch-up by " + method, serverArgs, progress)) {
      LocalCluster cluster = t.cluster;
      Node leader = awaitLeader(cluster);
      Node follower =
          cluster.nodes().stream()
              .filter(n -> !n.id().equals(leader.id()))
              .findFirst()
              .orElseThrow();
      long followerApplied = status(cluster, follower).getAppliedIndex();
      cluster.stop(follower, Duration.ofSeconds(30));
      progress.printf(
          Locale.ROOT,
          "catch-up by %s: %s stopped; writing %d values%n",
          method,
          follower.id(),
          catchUpWrites);
      kvPuts(t, catchUpWrites);
      Node current = awaitLeader(cluster);
      long behind = status(cluster, current).getCommitIndex() - followerApplied;

      long started = System.nanoTime();
      cluster.start(cluster.node(follower.id()));
      cluster.awaitReady(List.of(cluster.node(follower.id())), READY_TIMEOUT);
      long readyMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      String caughtUpBy =
          Files.readString(cluster.logFile(follower.id()))
                  .contains("installed snapshot from leader")
              ? "snapshot"
              : "log";
      progress.printf(
          Locale.ROOT,
          "catch-up by %s: %s ready %d ms after its start, %d entries behind, caught up by %s%n",
          method,
          follower.id(),
          readyMillis,
          behind,
          caughtUpBy);
      return new CatchUp(method, catchUpWrites, behind, readyMillis, caughtUpBy);
    }
  }

  /** {@code count} key-value puts over 10,000 keys, many in flight over several clients. */
  private void kvPuts(Throwaway t, int count) throws Exception {
    byte[] value = "v".repeat(valueSize).getBytes(StandardCharsets.UTF_8);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<RoostClient> clients = new ArrayList<>();
    List<Semaphore> windows = new ArrayList<>();
    try {
      // Several clients with a few writes in flight each, not one with hundreds: the state machine
      // remembers 128 request ids per client and refuses a retry older than that window.
      for (int c = 0; c < LOAD_CLIENTS; c++) {
        clients.add(client(t, Duration.ofSeconds(60)));
        windows.add(new Semaphore(LOAD_IN_FLIGHT_PER_CLIENT));
      }
      for (int i = 0; i < count && failure.get() == null; i++) {
        Semaphore window = windows.get(i % LOAD_CLIENTS);
        window.acquire();
        clients
            .get(i % LOAD_CLIENTS)
            .kvPutAsync("catch-up-" + (i % 10_000), value)
            .whenComplete(
                (entry, e) -> {
                  if (e != null) {
                    failure.compareAndSet(null, e);
                  }
                  window.release();
                });
      }
      for (Semaphore window : windows) {
        window.acquire(LOAD_IN_FLIGHT_PER_CLIENT);
      }
    } finally {
      clients.forEach(RoostClient::close);
    }
    if (failure.get() != null) {
      throw CliException.cluster("a catch-up write failed: " + failure.get().getMessage());
    }
  }

  // ---- the throwaway clusters ----

  /** A three-node cluster in a temporary directory, stopped and removed on close. */
  private static Node awaitLeader(LocalCluster cluster) throws CliException {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      var leader = cluster.leader().filter(cluster::ready);
      if (leader.isPresent()) {
        return leader.get();
      }
      LocalCluster.sleep(Duration.ofMillis(20));
    }
    throw CliException.cluster("no ready leader after " + READY_TIMEOUT.toSeconds() + " s");
  }

  private static void awaitOrFail(BooleanSupplier condition, String what) throws CliException {
    long deadline = System.nanoTime() + FAILOVER_TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw CliException.cluster(
            "timed out after " + FAILOVER_TIMEOUT.toSeconds() + " s waiting for " + what);
      }
      LocalCluster.sleep(Duration.ofMillis(5));
    }
  }

  private static MemberStatus status(LocalCluster cluster, Node node)
      throws CliException, ClusterException {
    return cluster
        .status(cluster.node(node.id()))
        .orElseThrow(() -> CliException.cluster(node.id() + " does not answer /status"));
  }

  private static RoostClient client(Throwaway t, Duration deadline) {
    return RoostClient.builder().peers(t.cluster.peers()).tls(t.tls()).deadline(deadline).build();
  }

  // ---- output ----

  private void print(Failover f, List<CatchUp> catchUps) {
    Histogram h = f.millis();
    Output out = output();
    if (out.json()) {
      ObjectNode json = out.object();
      ObjectNode failover = json.putObject("failover");
      failover.put("trials", f.trials());
      failover.put("p50Ms", h.getValueAtPercentile(50));
      failover.put("p90Ms", h.getValueAtPercentile(90));
      failover.put("maxMs", h.getMaxValue());
      ObjectNode elected = failover.putObject("leaderReadyMs");
      elected.put("p50", f.electedMillis().getValueAtPercentile(50));
      elected.put("p90", f.electedMillis().getValueAtPercentile(90));
      elected.put("max", f.electedMillis().getMaxValue());
      failover.put("writesAcknowledged", f.acknowledged());
      failover.put("lost", f.lost());
      failover.put("duplicated", f.duplicated());
      failover.put("outcomeUnknown", f.unknown());
      ArrayNode catchUp = json.putArray("catchUp");
      for (CatchUp c : catchUps) {
        ObjectNode o = catchUp.addObject();
        o.put("method", c.method());
        o.put("writes", c.writes());
        o.put("entriesBehind", c.entriesBehind());
        o.put("readyAfterMs", c.readyMillis());
        o.put("caughtUpBy", c.caughtUpBy());
      }
      out.print(json);
      return;
    }
    out.table(
        List.of(
            List.of(
                Integer.toString(f.trials()),
                Long.toString(h.getValueAtPercentile(50)),
                Long.toString(h.getValueAtPercentile(90)),
                Long.toString(h.getMaxValue()),
                f.electedMillis().getValueAtPercentile(50)
                    + " / "
                    + f.electedMillis().getMaxValue(),
                Long.toString(f.acknowledged()),
                Long.toString(f.lost()),
                Long.toString(f.duplicated()),
                Long.toString(f.unknown()))),
        "FAILOVER TRIALS",
        "P50 MS",
        "P90 MS",
        "MAX MS",
        "LEADER READY P50/MAX MS",
        "WRITES ACKED",
        "LOST",
        "DUPLICATED",
        "UNKNOWN");
    if (!catchUps.isEmpty()) {
      root().out().println();
      out.table(
          catchUps.stream()
              .map(
                  c ->
                      List.of(
                          c.method(),
                          Integer.toString(c.writes()),
                          Long.toString(c.entriesBehind()),
                          String.format(Locale.ROOT, "%.1f", c.readyMillis() / 1000.0),
                          c.caughtUpBy()))
              .toList(),
          "CATCH-UP",
          "WRITES MISSED",
          "ENTRIES BEHIND",
          "READY AFTER S",
          "CAUGHT UP BY");
    }
  }
}

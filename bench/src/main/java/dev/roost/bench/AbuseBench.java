package dev.roost.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roost.bench.LoadGenerator.Result;
import dev.roost.bench.RoostLoad.Workload;
import dev.roost.cli.CliException;
import dev.roost.cli.Verb;
import dev.roost.client.ClusterStatus;
import dev.roost.client.ReadConsistency;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.client.Tls;
import dev.roost.proto.MemberStatus;
import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LocalCluster.Node;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code roost bench abuse}: what one abusive client ({@link Abuser}) costs well-behaved ones. On a
 * throwaway 3-node cluster, well-behaved clients run a mixed kv workload alone and then with the
 * abuse, in alternating order round by round, and the figures of both are printed side by side;
 * then it checks that no member restarted and that every member holds the same state.
 */
@Command(
    name = "abuse",
    description =
        "Well-behaved clients' throughput and latency with and without an abusive client, on a"
            + " throwaway local cluster (figures only).")
final class AbuseBench extends Verb {
  @Option(
      names = "--clients",
      defaultValue = "32",
      description = "Well-behaved clients, one RoostClient each (default: ${DEFAULT-VALUE}).")
  int clients;

  @Option(
      names = "--rounds",
      defaultValue = "2",
      description = "Pairs of phases, without and with abuse (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(
      names = "--duration",
      defaultValue = "20",
      description = "Measured seconds per phase (default: ${DEFAULT-VALUE}).")
  int durationSeconds;

  @Option(
      names = "--warmup",
      defaultValue = "10",
      description = "Warm-up seconds per phase (default: ${DEFAULT-VALUE}).")
  int warmupSeconds;

  private boolean failed;

  @Override
  public Integer call() throws Exception {
    run();
    return failed ? 1 : 0;
  }

  @Override
  public void run() throws Exception {
    if (clients < 1 || rounds < 1 || durationSeconds < 1 || warmupSeconds < 0) {
      throw CliException.usage("--clients, --rounds and --duration must be positive");
    }
    PrintWriter progress = root().err();
    List<ObjectNode> results = new ArrayList<>();
    List<String> abuseLines = new ArrayList<>();
    try (Throwaway t = Throwaway.start("the abuse benchmark", List.of(), progress)) {
      LocalCluster cluster = t.cluster;
      Tls tls = t.tls();
      Map<String, Long> pids = new HashMap<>();
      cluster.nodes().forEach(n -> pids.put(n.id(), n.pid()));
      progress.println("seeding " + Abuser.BIG_PREFIX + "* with 1 MiB values...");
      progress.flush();
      Abuser.seed(cluster.peers(), tls);
      for (int round = 1; round <= rounds; round++) {
        // Alternate the order so that neither phase always runs on the older, larger state.
        boolean abusedFirst = round % 2 == 0;
        for (boolean abused :
            abusedFirst ? new boolean[] {true, false} : new boolean[] {false, true}) {
          String name = abused ? "with abuse" : "without abuse";
          progress.printf("round %d: %s%n", round, name);
          progress.flush();
          try {
            ObjectNode row = phase(cluster, tls, abused, abuseLines, round, progress);
            row.put("store", abused ? "roost, abused" : "roost");
            results.add(row);
          } catch (CompletionException | RoostException e) {
            // A cluster the abuse left unable to serve is a result too: say so, and go on.
            Throwable why =
                e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            abuseLines.add("round " + round + ", " + name + ": FAILED: " + why.getMessage());
            failed = true;
          }
        }
      }
      BenchReport.table(results, root().out());
      abuseLines.forEach(root().out()::println);
      check(cluster, tls, pids, root().out());
    }
    root().out().flush();
  }

  private ObjectNode phase(
      LocalCluster cluster,
      Tls tls,
      boolean abused,
      List<String> abuseLines,
      int round,
      PrintWriter progress)
      throws Exception {
    RoostLoad.Options options =
        new RoostLoad.Options(
            cluster.peers(),
            tls,
            Workload.MIXED,
            clients,
            1,
            clients,
            Duration.ofSeconds(durationSeconds),
            Duration.ofSeconds(warmupSeconds),
            256,
            10_000,
            2,
            0,
            0,
            50,
            ReadConsistency.LINEARIZABLE,
            round,
            RoostClient.DEFAULT_BATCH_SIZE,
            RoostClient.DEFAULT_BATCHES_IN_FLIGHT,
            true);
    if (!abused) {
      return BenchReport.json(new RoostLoad(options, progress).run());
    }
    Abuser abuser = new Abuser(cluster.nodes(), cluster.peers(), tls);
    Result result;
    try {
      // The keys are prepared first, undisturbed: what is measured is the workload under abuse.
      result = new RoostLoad(options, progress).run(abuser::start);
    } finally {
      abuser.close();
    }
    abuseLines.add("round " + round + ", what the abusive client got back:");
    abuser.answers().forEach((k, v) -> abuseLines.add("  " + k + ": " + v));
    abuseLines.add(
        "  /health meanwhile: slowest "
            + abuser.worstHealthMillis()
            + " ms, "
            + abuser.healthFailures()
            + " failed or over 5 s");
    return BenchReport.json(result);
  }

  /** No member restarted, and all hold the same state once they applied the same index. */
  private void check(LocalCluster cluster, Tls tls, Map<String, Long> pids, PrintWriter out)
      throws Exception {
    List<String> restarted = new ArrayList<>();
    for (Node n : cluster.nodes()) {
      if (!n.alive() || n.pid() != pids.get(n.id())) {
        restarted.add(n.id());
      }
    }
    out.println(
        "members restarted or gone: " + (restarted.isEmpty() ? "none" : restarted.toString()));
    failed |= !restarted.isEmpty();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Set<Long> applied = Set.of();
    while (System.nanoTime() < deadline) {
      applied =
          cluster.nodes().stream()
              .map(cluster::status)
              .map(s -> s.map(MemberStatus::getAppliedIndex).orElse(-1L))
              .collect(Collectors.toSet());
      if (applied.size() == 1 && !applied.contains(-1L)) {
        break;
      }
      LocalCluster.sleep(Duration.ofMillis(200));
    }
    Set<String> digests =
        cluster.nodes().stream()
            .map(n -> ClusterStatus.digest(cluster.peers(), tls, n.id(), Duration.ofSeconds(10)))
            .map(d -> d.getSha256())
            .collect(Collectors.toSet());
    boolean equal = applied.size() == 1 && digests.size() == 1;
    out.println(
        "state digests at applied index "
            + applied
            + ": "
            + (equal ? "equal on every member" : "DIFFER: " + digests));
    failed |= !equal;
  }
}

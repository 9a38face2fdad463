package dev.roost.bench;

import dev.roost.bench.LoadGenerator.Result;
import dev.roost.bench.RoostLoad.Workload;
import dev.roost.cli.CliException;
import dev.roost.cli.RoostCli;
import dev.roost.cli.Verb;
import dev.roost.client.RoostClient;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code roost bench}: load generators that print figures (never assert them). Workloads are
 * subcommands sharing {@link WorkloadBench}'s options; {@code failover} ({@link FailoverBench})
 * runs its own throwaway clusters and kills their leaders; {@code abuse} ({@link AbuseBench}) runs
 * one and abuses it.
 */
@Command(
    name = "bench",
    description = "Measure throughput and latency against a cluster (figures only).",
    subcommands = {
      BenchCommand.KvPut.class,
      BenchCommand.KvGet.class,
      BenchCommand.Post.class,
      BenchCommand.Timeline.class,
      BenchCommand.Mixed.class,
      FailoverBench.class,
      AbuseBench.class
    })
final class BenchCommand {

  /** Options and reporting shared by every workload. */
  abstract static class WorkloadBench extends Verb {
    private final Workload workload;

    WorkloadBench(Workload workload) {
      this.workload = workload;
    }

    @Mixin LoadOptions load;

    @Option(
        names = "--in-flight",
        defaultValue = "1",
        description = "Requests in flight per client (default: ${DEFAULT-VALUE}).")
    int inFlight;

    @Option(
        names = "--users",
        defaultValue = "10000",
        description = "Users for post/timeline (default: ${DEFAULT-VALUE}).")
    int users;

    @Option(
        names = "--follows",
        defaultValue = "50",
        description = "Accounts each user follows (default: ${DEFAULT-VALUE}).")
    int follows;

    @Option(
        names = "--rate",
        defaultValue = "0",
        description =
            "Target requests/s in total (open loop); 0 = as fast as possible (closed loop).")
    double rate;

    @Option(
        names = "--batch-size",
        description = "Calls of one kind one request may carry (default: ${DEFAULT-VALUE}).")
    int batchSize = RoostClient.DEFAULT_BATCH_SIZE;

    @Option(
        names = "--batches-in-flight",
        description =
            "Requests of one kind a client keeps outstanding before calls wait to be batched"
                + " (default: ${DEFAULT-VALUE}).")
    int batchesInFlight = RoostClient.DEFAULT_BATCHES_IN_FLIGHT;

    @Option(
        names = "--write-gateway",
        negatable = true,
        defaultValue = "true",
        fallbackValue = "true",
        description =
            "Send writes to the leader's write gateway, which puts the concurrent writes of"
                + " separate clients into one log entry (default); --no-write-gateway sends each"
                + " client's requests as Ratis requests.")
    boolean writeGateway;

    @Option(
        names = "--plot",
        paramLabel = "FILE.png",
        description = "Write the latency distribution as a PNG plot.")
    Path plot;

    int readPercent() {
      return 0;
    }

    @Override
    public void run() throws Exception {
      RoostCli root = root();
      String problem = load.problem();
      if (problem != null) {
        throw CliException.usage("bench: " + problem);
      }
      if (inFlight < 1
          || users < 2
          || follows < 0
          || follows >= users
          || rate < 0
          || readPercent() < 0
          || readPercent() > 100
          || batchSize < 1
          || batchSize > RoostClient.MAX_BATCH_SIZE
          || batchesInFlight < 1) {
        throw CliException.usage(
            "bench options must be positive (--follows below --users, --read-percent 0 to 100,"
                + " --batch-size at most "
                + RoostClient.MAX_BATCH_SIZE
                + ")");
      }
      RoostLoad.Options options =
          new RoostLoad.Options(
              root.resolvePeers(),
              root.tls(),
              workload,
              load.clients(),
              inFlight,
              load.connections(),
              load.duration(),
              load.warmup(),
              load.valueSize(),
              load.keys(),
              users,
              follows,
              rate,
              readPercent(),
              root.readConsistency(),
              load.seed(),
              batchSize,
              batchesInFlight,
              writeGateway);
      Result result = new RoostLoad(options, root.err()).run();
      BenchReport.print(result, output().json(), root.out());
      if (plot != null) {
        LatencyPlot.write(result, plot);
        root.err().println("latency plot written to " + plot.toAbsolutePath());
      }
    }
  }

  @Command(name = "kv-put", description = "Puts of --value-size bytes over --keys keys.")
  static final class KvPut extends WorkloadBench {
    KvPut() {
      super(Workload.KV_PUT);
    }
  }

  @Command(
      name = "kv-get",
      description = "Gets over --keys keys (created first), at --consistency.")
  static final class KvGet extends WorkloadBench {
    KvGet() {
      super(Workload.KV_GET);
    }
  }

  @Command(
      name = "post",
      description = "Posts by --users users (created first, each following --follows).")
  static final class Post extends WorkloadBench {
    Post() {
      super(Workload.POST);
    }
  }

  @Command(
      name = "timeline",
      description = "Timelines (20 posts) of --users users following --follows each.")
  static final class Timeline extends WorkloadBench {
    Timeline() {
      super(Workload.TIMELINE);
    }
  }

  @Command(name = "mixed", description = "kv-get and kv-put mixed by --read-percent.")
  static final class Mixed extends WorkloadBench {
    @Option(
        names = "--read-percent",
        defaultValue = "90",
        description = "Share of reads (default: ${DEFAULT-VALUE}).")
    int readPercent;

    Mixed() {
      super(Workload.MIXED);
    }

    @Override
    int readPercent() {
      return readPercent;
    }
  }
}

package dev.roost.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roost.bench.LoadGenerator.Caller;
import dev.roost.bench.LoadGenerator.Load;
import dev.roost.bench.LoadGenerator.Result;
import dev.roost.cli.RoostCli;
import dev.roost.client.RoostException;
import dev.roost.client.Tls;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code java -jar roost-bench.jar}: the same key-value load against Roost, etcd or ZooKeeper,
 * measured by {@code roost bench}'s {@link LoadGenerator} and printed by its {@link BenchReport}.
 * {@code --connections} client instances of the store are shared round-robin by {@code --clients}
 * closed-loop callers, for every store alike. Before measuring, {@code --keys} keys are created
 * with the value (ZooKeeper's {@code setData} needs the znodes; the others get the same work).
 * {@code bench/compare.sh} starts each store's cluster and runs this against it. Roost's servers
 * are reached over TLS trusting {@code --ca}, as they run by default, or in plaintext with {@code
 * --insecure}; one of the two is required for them, as there is no local cluster to fall back on.
 *
 * <p>Exit status: 0 measured (errors during the run are counted, not fatal); 2 bad options; 3 the
 * store could not be reached or prepared.
 */
@Command(
    name = "roost-bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Measure kv-put or kv-get against Roost, etcd or ZooKeeper with the same load.",
      "`table FILE...` prints results saved with -o json as one table."
    })
public final class Compare implements Callable<Integer> {
  /** The compared stores and how each reads. */
  enum Store {
    roost("linearizable"),
    ratis("linearizable"),
    etcd("linearizable"),
    zookeeper("local");

    final String reads;

    Store(String reads) {
      this.reads = reads;
    }

    /** Whether the servers are Roost's, which take {@code --ca} or {@code --insecure}. */
    boolean roostServers() {
      return this == roost || this == ratis;
    }

    KvConnection connect(String endpoints, Tls tls, Duration timeout, boolean writeGateway)
        throws Exception {
      return switch (this) {
        case roost -> new RoostConnection(endpoints, tls, timeout, writeGateway);
        case ratis -> new RatisConnection(endpoints, tls, timeout);
        case etcd -> new EtcdConnection(endpoints, timeout);
        case zookeeper -> new ZooKeeperConnection(endpoints, timeout);
      };
    }
  }

  @Parameters(index = "0", paramLabel = "WORKLOAD", description = "kv-put, kv-get or table.")
  String workload;

  @Parameters(
      index = "1..*",
      paramLabel = "FILE",
      description = "With table: files of JSON results, one object a line.")
  List<Path> files = new ArrayList<>();

  @Option(
      names = "--store",
      description =
          "roost, etcd or zookeeper; ratis: Roost's servers through Ratis' own client, one Ratis"
              + " request per operation (the baseline without RoostClient).")
  Store store;

  @Option(
      names = "--endpoints",
      paramLabel = "LIST",
      description =
          "roost, ratis: id=host:port/port,... (peer and client ports); etcd: host:port,..."
              + " (client URLs); zookeeper: host:port,... (client ports).")
  String endpoints;

  @Option(
      names = "--ca",
      paramLabel = "FILE",
      description =
          "roost, ratis: the cluster CA's certificate, to check the servers' (Roost servers use"
              + " TLS unless run with --insecure).")
  Path ca;

  @Option(
      names = "--insecure",
      description = "roost, ratis: plaintext, for servers run with --insecure.")
  boolean insecure;

  @Mixin LoadOptions options;

  @Option(
      names = "--write-gateway",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "roost: writes through the leader's write gateway, which puts concurrent writes of"
              + " separate clients into one log entry (the default); --no-write-gateway sends"
              + " each client's requests as Ratis requests.")
  boolean writeGateway;

  @Option(
      names = "--timeout",
      defaultValue = "10",
      description = "Seconds per request (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(
      names = {"-o", "--output"},
      defaultValue = "table",
      description = "table or json (default: ${DEFAULT-VALUE}).")
  String output;

  private PrintWriter out;
  private PrintWriter err;

  public static void main(String[] args) {
    RoostCli.quietGrpcLogging();
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the command line; returns the exit status. */
  static int run(String[] args, PrintWriter out, PrintWriter err) {
    Compare compare = new Compare();
    compare.out = out;
    compare.err = err;
    CommandLine cli =
        new CommandLine(compare)
            .setCaseInsensitiveEnumValuesAllowed(true)
            .setOut(out)
            .setErr(err)
            .setParameterExceptionHandler(
                (e, a) -> {
                  err.println("error: " + e.getMessage());
                  return 2;
                })
            .setExecutionExceptionHandler(
                (e, c, p) -> {
                  Throwable cause =
                      e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                  err.println(
                      "error: " + LoadGenerator.errorName(cause) + ": " + cause.getMessage());
                  return 3;
                });
    return cli.execute(args);
  }

  @Override
  public Integer call() throws Exception {
    if (workload.equals("table")) {
      BenchReport.table(readResults(files), out);
      return 0;
    }
    String problem = validate();
    if (problem != null) {
      err.println("error: " + problem);
      return 2;
    }
    Tls tls;
    try {
      tls = ca == null ? Tls.PLAINTEXT : Tls.trusting(ca);
    } catch (RoostException e) {
      err.println("error: --ca: " + e.getMessage());
      return 2;
    }
    BenchReport.print(measure(tls), output.equals("json"), out);
    return 0;
  }

  /** What is wrong with the options for a measurement, or null. */
  String validate() {
    if (!workload.equals("kv-put") && !workload.equals("kv-get")) {
      return "WORKLOAD must be kv-put, kv-get or table, not " + workload;
    }
    if (store == null || endpoints == null || endpoints.isBlank()) {
      return "--store and --endpoints are required";
    }
    if (!store.roostServers() && (ca != null || insecure)) {
      return "--ca and --insecure are for Roost's servers (roost, ratis) only";
    }
    if (ca != null && insecure) {
      return "--ca and --insecure exclude each other";
    }
    if (store.roostServers() && ca == null && !insecure) {
      return "Roost servers use TLS: pass the cluster CA's certificate with --ca FILE (or"
          + " --insecure for servers run with --insecure)";
    }
    if (!output.equals("table") && !output.equals("json")) {
      return "-o must be table or json";
    }
    if (timeoutSeconds < 1) {
      return "--timeout must be positive";
    }
    return options.problem();
  }

  Load load() {
    return new Load(
        store == Store.roost && !writeGateway ? "roost (no gateway)" : store.name(),
        workload,
        options.clients(),
        1,
        options.connections(),
        store.reads,
        options.duration(),
        options.warmup(),
        0);
  }

  private Result measure(Tls tls) throws Exception {
    Load load = load();
    byte[] value = new byte[options.valueSize()];
    new SplittableRandom(options.seed()).nextBytes(value);
    List<KvConnection> connected = new ArrayList<>();
    try {
      for (int i = 0; i < options.connections(); i++) {
        connected.add(
            store.connect(endpoints, tls, Duration.ofSeconds(timeoutSeconds), writeGateway));
      }
      err.printf("preparing %d keys in %s...%n", options.keys(), store);
      err.flush();
      prepare(connected, value);
      boolean put = workload.equals("kv-put");
      return LoadGenerator.measure(
          load,
          i -> {
            KvConnection c = connected.get(i % connected.size());
            SplittableRandom random = new SplittableRandom(options.seed() + i);
            return put
                ? () -> c.put(random.nextInt(options.keys()), value)
                : (Caller) () -> c.get(random.nextInt(options.keys()));
          },
          err);
    } finally {
      connected.forEach(KvConnection::close);
    }
  }

  /** Creates every key, from as many threads as there will be callers (at most 64). */
  private void prepare(List<KvConnection> connected, byte[] value) throws Exception {
    int threads = Math.min(options.clients(), 64);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int first = t;
        KvConnection c = connected.get(t % connected.size());
        done.add(
            pool.submit(
                () -> {
                  for (int k = first; k < options.keys(); k += threads) {
                    c.create(k, value);
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static List<JsonNode> readResults(List<Path> files) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> results = new ArrayList<>();
    for (Path file : files) {
      for (String line : Files.readAllLines(file)) {
        if (!line.isBlank()) {
          results.add(json.readTree(line));
        }
      }
    }
    return results;
  }
}

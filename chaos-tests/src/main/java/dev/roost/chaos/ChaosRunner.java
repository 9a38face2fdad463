package dev.roost.chaos;

import dev.roost.chaos.checker.Verdict;
import dev.roost.client.ReadConsistency;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The chaos suite's command line ({@code ./roost chaos ...}): one run, or with {@code --matrix}
 * every nemesis against both workloads.
 *
 * <p>Exit status: 0 every history valid, 1 an anomaly found, 2 a checker could not decide, 3 the
 * harness itself failed or the options are wrong (one line saying which option and why): not 2, so
 * that a typo never reads as an undecided check.
 */
@Command(
    name = "roost chaos",
    mixinStandardHelpOptions = true,
    description = "Runs a Jepsen-style test against a real Roost cluster and checks the history.")
public final class ChaosRunner implements Callable<Integer> {
  /** The families a matrix runs against each workload. */
  static final List<String> MATRIX = List.of("none", "kill", "pause", "partition", "all");

  @Option(names = "--workload", defaultValue = "kv", description = "kv or social")
  String workload;

  @Option(
      names = "--nemesis",
      defaultValue = "kill,pause,partition",
      description = "comma-separated: kill, pause, partition, all or none")
  String nemesis;

  @Option(
      names = "--time",
      defaultValue = "60s",
      converter = DurationConverter.class,
      description = "workload time, e.g. 60s, 2m")
  Duration time;

  @Option(names = "--clients", defaultValue = "10")
  int clients;

  @Option(names = "--nodes", defaultValue = "3")
  int nodes;

  @Option(names = "--seed", description = "default: random, printed")
  Long seed;

  @Option(names = "--out", description = "run directory (default chaos-runs/<time>-<workload>)")
  Path out;

  @Option(
      names = "--fault-time",
      defaultValue = "5s-10s",
      converter = RangeConverter.class,
      description = "MIN-MAX per fault, e.g. 3s-4s")
  MillisRange faultTime;

  @Option(
      names = "--heal-time",
      defaultValue = "5s-10s",
      converter = RangeConverter.class,
      description = "MIN-MAX between faults, e.g. 2s-3s")
  MillisRange healTime;

  @Option(
      names = "--check-time",
      defaultValue = "120s",
      converter = DurationConverter.class,
      description = "time limit per checker")
  Duration checkTime;

  @Option(names = "--server-jar", description = "default: server/target/roost-server.jar")
  Path serverJar;

  @Option(names = "--server-arg", description = "extra flag for every server (repeatable)")
  List<String> serverArgs = new ArrayList<>();

  @Option(names = "--no-namespaces", description = "loopback only (partitions skipped)")
  boolean noNamespaces;

  @Option(
      names = "--read-consistency",
      defaultValue = "LINEARIZABLE",
      description =
          "how clients read: linearizable (default), follower or stale; the last two"
              + " are not linearizable, so a kv run must report them invalid")
  ReadConsistency readConsistency;

  @Option(names = "--matrix", description = "every nemesis against both workloads")
  boolean matrix;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** The shaded gRPC's logger, held so that its level stays set. */
  private static final java.util.logging.Logger GRPC_LOG =
      java.util.logging.Logger.getLogger("org.apache.ratis.thirdparty.io.grpc");

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    // gRPC's INFO lines (epoll, on every start) would interleave with the run's narration.
    GRPC_LOG.setLevel(java.util.logging.Level.WARNING);
    System.exit(commandLine().execute(args));
  }

  /** The command line as {@link #main} runs it. */
  static CommandLine commandLine() {
    return new CommandLine(new ChaosRunner())
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setParameterExceptionHandler(
            (e, args) -> {
              // The same shape as the roost CLI's usage errors.
              e.getCommandLine().getErr().println("error: INVALID_ARGUMENT: " + e.getMessage());
              e.getCommandLine().getErr().println("(see: roost chaos --help)");
              return 3;
            })
        .setExecutionExceptionHandler(
            (e, cmd, parsed) -> {
              cmd.getErr().println("chaos harness failed: " + e);
              e.printStackTrace(cmd.getErr());
              return 3;
            });
  }

  @Override
  public Integer call() throws Exception {
    if (nodes < 1 || clients < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--nodes and --clients must be at least 1");
    }
    if (!matrix && !List.of("kv", "social").contains(workload)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "unknown workload '" + workload + "'; use kv or social");
    }
    long s = seed != null ? seed : ThreadLocalRandom.current().nextLong(1, 1_000_000);
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path dir =
        out != null ? out : Path.of("chaos-runs", stamp + "-" + (matrix ? "matrix" : workload));
    Path jar =
        serverJar != null
            ? serverJar
            : Path.of(System.getProperty("roost.server.jar", "server/target/roost-server.jar"));
    RunOptions base =
        new RunOptions(
            workload,
            families(nemesis),
            time,
            clients,
            nodes,
            s,
            dir.toAbsolutePath(),
            faultTime.toArray(),
            healTime.toArray(),
            checkTime,
            jar.toAbsolutePath(),
            serverArgs,
            !noNamespaces,
            readConsistency);
    if (!matrix) {
      ChaosRun.Outcome o = ChaosRun.run(base);
      System.out.println(o.verdict() + ": " + o.dir().resolve("report.html"));
      return o.exitCode();
    }
    Verdict worst = Verdict.VALID;
    StringBuilder table =
        new StringBuilder("| workload | nemesis | verdict | report |\n|---|---|---|---|\n");
    for (String w : List.of("kv", "social")) {
      for (String n : MATRIX) {
        Path cell = base.out().resolve(w + "-" + n);
        ChaosRun.Outcome o = ChaosRun.run(base.cell(w, families(n), cell));
        worst = worst.and(o.verdict());
        table.append("| ").append(w).append(" | ").append(n).append(" | ");
        table.append(o.verdict()).append(" | ").append(cell.resolve("report.html")).append(" |\n");
        System.out.println(w + " " + n + ": " + o.verdict());
      }
    }
    java.nio.file.Files.writeString(base.out().resolve("matrix.md"), table);
    System.out.print(table);
    return new ChaosRun.Outcome(worst, List.of(), base.out(), 0).exitCode();
  }

  /** Expands {@code all} and drops {@code none}. */
  private List<String> families(String families) {
    List<String> out = new ArrayList<>();
    for (String f : families.toLowerCase(Locale.ROOT).split(",")) {
      switch (f.strip()) {
        case "", "none" -> {}
        case "all" -> out.addAll(List.of("kill", "pause", "partition"));
        case "kill", "pause", "partition" -> out.add(f.strip());
        default ->
            throw new CommandLine.ParameterException(
                spec.commandLine(),
                "unknown nemesis '" + f + "'; use kill, pause, partition, all or none");
      }
    }
    return out.stream().distinct().toList();
  }

  /** {@code 500ms}, {@code 60s}, {@code 2m}; a bad one is a usage error naming the option. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String s) {
      String t = s.strip().toLowerCase(Locale.ROOT);
      try {
        if (t.endsWith("ms")) {
          return nonNegative(s, Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2))));
        }
        if (t.endsWith("s")) {
          return nonNegative(s, Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1))));
        }
        if (t.endsWith("m")) {
          return nonNegative(s, Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1))));
        }
      } catch (NumberFormatException e) {
        // falls through to the message below
      }
      throw new CommandLine.TypeConversionException(
          "bad duration '" + s + "'; use e.g. 500ms, 60s or 2m");
    }

    private static Duration nonNegative(String s, Duration d) {
      if (d.isNegative()) {
        throw new CommandLine.TypeConversionException("negative duration '" + s + "'");
      }
      return d;
    }
  }

  /** A range of durations in milliseconds, as {@link RunOptions} takes them. */
  record MillisRange(long min, long max) {
    long[] toArray() {
      return new long[] {min, max};
    }
  }

  /** {@code MIN-MAX} durations. */
  static final class RangeConverter implements CommandLine.ITypeConverter<MillisRange> {
    @Override
    public MillisRange convert(String s) {
      String[] parts = s.split("-", -1);
      if (parts.length != 2) {
        throw new CommandLine.TypeConversionException(
            "bad range '" + s + "'; use MIN-MAX, e.g. 5s-10s");
      }
      DurationConverter durations = new DurationConverter();
      MillisRange r =
          new MillisRange(
              durations.convert(parts[0]).toMillis(), durations.convert(parts[1]).toMillis());
      if (r.min() > r.max()) {
        throw new CommandLine.TypeConversionException("bad range '" + s + "': MIN is above MAX");
      }
      return r;
    }
  }
}

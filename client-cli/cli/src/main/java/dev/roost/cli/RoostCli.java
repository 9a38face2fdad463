package dev.roost.cli;

import dev.roost.client.ReadConsistency;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.client.Tls;
import dev.roost.testkit.ClusterException;
import dev.roost.testkit.LocalCluster;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code roost} command line. Every read takes {@code -o table|json}; errors go to stderr as
 * {@code error: CODE: message} with exit status 2 for bad input and 3 when the cluster cannot
 * answer; a stack trace only with {@code --debug}.
 *
 * <p>Peers come from {@code --peers}, else {@code ROOST_PEERS}, else the local cluster that {@code
 * ./roost up} started.
 */
@Command(
    name = "roost",
    mixinStandardHelpOptions = true,
    // Inherited so that every subcommand takes --help, which the usage errors point to.
    scope = ScopeType.INHERIT,
    version = "roost 0.1.0",
    description = "Roost: a fault-tolerant social network on Raft.",
    footer = {
      "",
      "Load generation and fault injection have their own jars, run the same way:"
          + " ./roost bench --help, ./roost chaos --help."
    },
    subcommands = {
      LocalClusterCommand.Up.class,
      LocalClusterCommand.Down.class,
      LocalClusterCommand.Status.class,
      LocalClusterCommand.Logs.class,
      LocalClusterCommand.Kill.class,
      LocalClusterCommand.Pause.class,
      LocalClusterCommand.Resume.class,
      LocalClusterCommand.Restart.class,
      LocalClusterCommand.AddNode.class,
      LocalClusterCommand.RemoveNode.class,
      LocalClusterCommand.Supervise.class,
      UserCommand.class,
      UserCommand.Users.class,
      FollowCommand.Follow.class,
      FollowCommand.Unfollow.class,
      FollowCommand.Following.class,
      FollowCommand.Followers.class,
      PostCommand.class,
      PostCommand.Posts.class,
      PostCommand.Timeline.class,
      KvCommand.class,
      ClusterCommand.class,
      CertsCommand.class,
      ShellCommand.class,
      DemoCommand.class
    })
public final class RoostCli {
  @Spec CommandSpec spec;

  @Option(
      names = "--peers",
      scope = ScopeType.INHERIT,
      paramLabel = "ID=HOST:PORT,...",
      description = "Cluster members to contact (default: $ROOST_PEERS, else the local cluster).")
  String peers;

  @Option(
      names = {"-o", "--output"},
      scope = ScopeType.INHERIT,
      defaultValue = "table",
      description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Output.Format output;

  @Option(
      names = "--timeout",
      scope = ScopeType.INHERIT,
      defaultValue = "10",
      paramLabel = "SECONDS",
      description = "Deadline for each request (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(
      names = "--consistency",
      scope = ScopeType.INHERIT,
      defaultValue = "linearizable",
      paramLabel = "LEVEL",
      description =
          "Read consistency: linearizable (never stale), follower (any member, at least as new as"
              + " what this command saw), stale (any member, no wait). Default: ${DEFAULT-VALUE}.")
  ReadLevel consistency;

  /** The --consistency values, as the CLI spells them. */
  enum ReadLevel {
    linearizable(ReadConsistency.LINEARIZABLE),
    follower(ReadConsistency.FOLLOWER),
    stale(ReadConsistency.STALE);

    final ReadConsistency level;

    ReadLevel(ReadConsistency level) {
      this.level = level;
    }
  }

  @Option(
      names = "--home",
      scope = ScopeType.INHERIT,
      paramLabel = "DIR",
      description = "Directory of the local cluster (default: $ROOST_HOME, else ./.roost).")
  Path home;

  @Option(
      names = "--ca",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description =
          "The cluster CA's certificate, to check the servers' (default: $ROOST_CA, else the"
              + " local cluster's).")
  Path ca;

  @Option(
      names = "--insecure",
      scope = ScopeType.INHERIT,
      description =
          "Plaintext, for servers run with --insecure; with up, start the local cluster that way"
              + " (no TLS, no member authentication: for experiments only).")
  boolean insecure;

  @Option(
      names = "--debug",
      scope = ScopeType.INHERIT,
      description = "Show stack traces of failures.")
  boolean debug;

  /**
   * The logger of the gRPC that Ratis shades, held here so that its level stays set (the JDK's
   * logging keeps loggers only weakly).
   */
  private static final java.util.logging.Logger GRPC_LOG =
      java.util.logging.Logger.getLogger("org.apache.ratis.thirdparty.io.grpc");

  /**
   * Keeps gRPC's INFO lines (it announces epoll on every start) off a command's stderr, which is
   * for the user's answers and errors; its warnings still show.
   */
  public static void quietGrpcLogging() {
    GRPC_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  /** Runs the CLI and exits with its status. */
  public static void main(String[] args) {
    quietGrpcLogging();
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the CLI with the given output streams and returns the exit status. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    return run(args, out, err, List.of());
  }

  /**
   * Runs the CLI with more subcommands than its own (how {@code roost bench}, which lives in its
   * own artifact, joins the command tree) and returns the exit status. The extra commands get the
   * root's options, output formats and error reporting.
   */
  public static int run(String[] args, PrintWriter out, PrintWriter err, List<Object> extra) {
    RoostCli root = new RoostCli();
    CommandLine cl = new CommandLine(root);
    extra.forEach(cl::addSubcommand);
    cl.setOut(out);
    cl.setErr(err);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setParameterExceptionHandler(
        (e, a) -> {
          err.println("error: INVALID_ARGUMENT: " + Output.printable(e.getMessage()));
          err.println("(see: roost " + subcommandPath(e.getCommandLine()) + " --help)");
          return CliException.EXIT_INPUT;
        });
    cl.setExecutionExceptionHandler(
        (e, commandLine, parsed) -> {
          CliException failure =
              e instanceof CliException c
                  ? c
                  : e instanceof RoostException r
                      ? CliException.of(r)
                      : e instanceof ClusterException c
                          ? (c.inputFault()
                              ? CliException.usage(c.getMessage())
                              : CliException.cluster(c.getMessage()))
                          : new CliException(
                              dev.roost.proto.StatusCode.INTERNAL,
                              e.getClass().getSimpleName() + ": " + e.getMessage(),
                              CliException.EXIT_CLUSTER);
          err.println("error: " + failure.code() + ": " + Output.printable(failure.getMessage()));
          if (root.debug) {
            e.printStackTrace(err);
          }
          return failure.exitCode();
        });
    return cl.execute(args);
  }

  private static String subcommandPath(CommandLine cl) {
    String name = cl.getCommandSpec().qualifiedName(" ");
    return name.startsWith("roost ") ? name.substring(6) : "";
  }

  public PrintWriter out() {
    return spec.commandLine().getOut();
  }

  public PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** The read consistency chosen with {@code --consistency}. */
  public ReadConsistency readConsistency() {
    return consistency.level;
  }

  public Output output() {
    return new Output(output, out());
  }

  public Path home() {
    return home != null ? home.toAbsolutePath() : LocalCluster.defaultHome();
  }

  public Optional<LocalCluster> localCluster() throws IOException {
    return LocalCluster.load(home(), LocalCluster.defaultServerJar());
  }

  /** The peer list to use: --peers, else $ROOST_PEERS, else the local cluster. */
  public String resolvePeers() throws IOException, CliException {
    if (peers != null && !peers.isBlank()) {
      return peers;
    }
    String env = System.getenv("ROOST_PEERS");
    if (env != null && !env.isBlank()) {
      return env;
    }
    return localCluster()
        .map(LocalCluster::peers)
        .orElseThrow(
            () ->
                CliException.usage(
                    "no cluster to talk to: pass --peers, set ROOST_PEERS, or start one with ./roost up"));
  }

  /**
   * How to reach the cluster: plaintext with {@code --insecure}, else TLS trusting {@code --ca},
   * else {@code $ROOST_CA}, else the local cluster's CA (plaintext if it runs insecure).
   *
   * @throws CliException if no CA is known, or the file is not a certificate
   */
  public Tls tls() throws IOException, CliException {
    if (insecure) {
      return Tls.PLAINTEXT;
    }
    String env = System.getenv("ROOST_CA");
    Path file = ca != null ? ca : env != null && !env.isBlank() ? Path.of(env.strip()) : null;
    try {
      if (file != null) {
        return Tls.trusting(file);
      }
      Optional<LocalCluster> local = localCluster();
      if (local.isPresent()) {
        return Tls.of(local.get().caFile());
      }
    } catch (RoostException e) {
      throw CliException.usage("--ca: " + e.getMessage());
    }
    throw CliException.usage(
        "Roost servers use TLS: pass the cluster CA's certificate with --ca FILE or ROOST_CA"
            + " (or --insecure for servers run with --insecure)");
  }

  /** A client for the resolved peers that tells the user when it moves to another server. */
  public RoostClient client() throws IOException, CliException {
    String spec = resolvePeers();
    Tls tls = tls();
    try {
      return RoostClient.builder()
          .peers(spec)
          .tls(tls)
          .deadline(Duration.ofSeconds(Math.max(1, timeoutSeconds)))
          .readConsistency(consistency.level)
          .onLeaderChange(leader -> err().println("Reconnecting to " + leader.display() + "..."))
          .build();
    } catch (IllegalArgumentException e) {
      throw CliException.usage(e.getMessage());
    }
  }
}

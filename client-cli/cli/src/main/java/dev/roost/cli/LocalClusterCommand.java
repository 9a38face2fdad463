package dev.roost.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roost.client.AdminClient;
import dev.roost.client.Tls;
import dev.roost.proto.MemberStatus;
import dev.roost.testkit.ClusterException;
import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LocalCluster.Node;
import dev.roost.testkit.ServerJvm;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The local cluster verbs: {@code up}, {@code down}, {@code status}, {@code logs} and the fault
 * injectors {@code kill}, {@code pause}, {@code resume}, {@code restart}, which send real signals
 * to the server processes. A NODE argument is a node id or {@code leader}.
 */
final class LocalClusterCommand {
  private LocalClusterCommand() {}

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  /** Base for the verbs: the remembered cluster. */
  abstract static class LocalVerb extends Verb {
    RoostCli root;

    @Override
    public Integer call() throws Exception {
      root = root();
      return super.call();
    }

    LocalCluster cluster() throws IOException, CliException {
      return root.localCluster()
          .orElseThrow(
              () ->
                  CliException.usage(
                      "no local cluster in " + root.home() + "; start one with ./roost up"));
    }
  }

  @Command(name = "up", description = "Start a local cluster of server processes on loopback.")
  static final class Up extends LocalVerb {
    @Option(
        names = "--nodes",
        defaultValue = "3",
        description = "Number of nodes (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(
        names = "--base-port",
        defaultValue = "7001",
        description = "First Raft port; HTTP ports start 100 higher (default: ${DEFAULT-VALUE}).")
    int basePort;

    @Option(
        names = "--read-lease",
        arity = "0..1",
        fallbackValue = "true",
        description =
            "Answer linearizable reads under a leader lease (servers' --read-lease; remembered"
                + " with the cluster; default: false, or as the stopped cluster was).")
    Boolean readLease;

    @Override
    public void run() throws Exception {
      if (size < 1 || size > 9) {
        throw CliException.usage("--nodes must be 1 to 9");
      }
      Optional<LocalCluster> existing = root.localCluster();
      LocalCluster cluster;
      if (existing.isPresent()) {
        cluster = existing.get();
        if (cluster.nodes().stream().anyMatch(Node::alive)) {
          throw CliException.usage(
              "a local cluster is already running in "
                  + root.home()
                  + " (./roost status; ./roost down)");
        }
        root.err().println("Restarting the stopped cluster in " + root.home() + " (data kept).");
      } else {
        cluster = LocalCluster.create(root.home(), LocalCluster.defaultServerJar(), size, basePort);
      }
      if (readLease != null) {
        cluster.readLease(readLease);
      }
      if (existing.isEmpty() || root.insecure) {
        cluster.insecure(root.insecure);
      }
      if (cluster.insecure()) {
        root.err()
            .println(
                "WARNING: --insecure: plaintext on every port and no member authentication;"
                    + " anyone who can reach a port can read and change everything.");
      }
      cluster.checkPortsFree();
      cluster.startAll();
      root.err()
          .println("Started " + cluster.nodes().size() + " nodes; data and logs in " + root.home());
      cluster
          .caFile()
          .ifPresent(
              ca ->
                  root.err()
                      .println(
                          "TLS on every port; the cluster's CA is "
                              + ca
                              + " (other machines' clients: --ca FILE or ROOST_CA)"));
      cluster.awaitReady(cluster.nodes(), READY_TIMEOUT);
      long supervisor = startSupervisor(root.home());
      root.err()
          .println(
              "Supervisor (pid "
                  + supervisor
                  + ") restarts a node whose /health fails "
                  + Supervisor.FAILED_POLLS
                  + " s in a row; not one stopped, killed or paused with ./roost");
      printStatus(root, cluster);
    }
  }

  /** The file that names the running supervisor's pid. */
  private static Path supervisorPidFile(Path home) {
    return home.resolve("supervisor.pid");
  }

  /** Starts {@link Supervise} in its own process, detached as the servers are. */
  private static long startSupervisor(Path home) throws IOException, ClusterException {
    Path log = home.resolve("logs").resolve("supervisor.log");
    Files.createDirectories(log.getParent());
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx64m",
            "-XX:+UseSerialGC",
            "-Droost.server.jar=" + LocalCluster.defaultServerJar(),
            "-cp",
            System.getProperty("java.class.path"),
            RoostCli.class.getName(),
            "--home",
            home.toString(),
            "supervise");
    long pid = ServerJvm.start(command, log, log, Map.of()).pid();
    // The supervisor names itself in its pid file once it runs; down reads it from there.
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!Long.toString(pid).equals(Supervise.readOrEmpty(supervisorPidFile(home)))) {
      if (!ServerJvm.alive(pid) || System.nanoTime() > deadline) {
        throw ClusterException.unavailable("the supervisor did not start; see " + log);
      }
      LocalCluster.sleep(Duration.ofMillis(100));
    }
    return pid;
  }

  /** Stops the supervisor, if one runs, before the nodes stop. */
  private static void stopSupervisor(Path home) throws IOException {
    Path file = supervisorPidFile(home);
    if (!Files.exists(file)) {
      return;
    }
    long pid = Long.parseLong(Files.readString(file).strip());
    Files.deleteIfExists(file);
    ServerJvm.stop(pid, Duration.ofSeconds(5));
  }

  @Command(
      name = "supervise",
      hidden = true,
      description =
          "Run the local cluster's supervisor (./roost up starts it; ./roost down ends it).")
  static final class Supervise extends LocalVerb {
    @Override
    public void run() throws Exception {
      Path pidFile = supervisorPidFile(root.home());
      String self = Long.toString(ProcessHandle.current().pid());
      Files.writeString(pidFile, self);
      Tls tls = Tls.of(cluster().caFile());
      HttpClient http = tls.http().connectTimeout(Duration.ofSeconds(1)).build();
      Supervisor supervisor =
          new Supervisor(
              new Supervisor.Nodes() {
                @Override
                public List<Node> nodes() {
                  try {
                    return root.localCluster().map(LocalCluster::nodes).orElse(List.of());
                  } catch (IOException e) {
                    return List.of();
                  }
                }

                @Override
                public boolean paused(Node node) {
                  return processState(node).equals("paused");
                }

                @Override
                public boolean healthy(Node node) {
                  try {
                    return http.send(
                                HttpRequest.newBuilder(
                                        URI.create(tls.url(node.httpAddress(), "/health")))
                                    .timeout(Duration.ofSeconds(1))
                                    .build(),
                                HttpResponse.BodyHandlers.discarding())
                            .statusCode()
                        == 200;
                  } catch (IOException e) {
                    return false;
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                  }
                }

                @Override
                public void restart(Node node) throws Exception {
                  LocalCluster cluster = cluster();
                  cluster.stop(cluster.node(node.id()), Duration.ofSeconds(10));
                  cluster.checkPortsFree(node);
                  cluster.start(cluster.node(node.id()));
                }
              },
              root.err());
      root.err().println("supervisor: pid " + self + " watching " + root.home());
      // Ends when ./roost down takes its pid file away, or once no node runs.
      while (self.equals(readOrEmpty(pidFile))
          && cluster().nodes().stream().anyMatch(n -> n.pid() > 0)) {
        supervisor.poll();
        LocalCluster.sleep(Supervisor.POLL);
      }
      root.err().println("supervisor: pid " + self + " ends");
      if (self.equals(readOrEmpty(pidFile))) {
        Files.deleteIfExists(pidFile);
      }
    }

    static String readOrEmpty(Path file) {
      try {
        return Files.readString(file).strip();
      } catch (IOException e) {
        return "";
      }
    }
  }

  @Command(name = "down", description = "Stop the local cluster (data is kept unless --wipe).")
  static final class Down extends LocalVerb {
    @Option(names = "--wipe", description = "Also delete the cluster's data and logs.")
    boolean wipe;

    @Override
    public void run() throws Exception {
      LocalCluster cluster = cluster();
      stopSupervisor(root.home());
      cluster.stopAll(Duration.ofSeconds(10));
      if (wipe) {
        cluster.wipe();
        root.err().println("Stopped and wiped " + root.home());
      } else {
        root.err()
            .println("Stopped; data kept in " + root.home() + " (./roost up starts it again)");
      }
    }
  }

  @Command(name = "status", description = "Show each local node: process, role, term, indexes.")
  static final class Status extends LocalVerb {
    @Override
    public void run() throws Exception {
      printStatus(root, cluster());
    }
  }

  static void printStatus(RoostCli root, LocalCluster cluster) {
    Output out = root.output();
    ArrayNode json = out.object().arrayNode();
    List<List<String>> rows = new ArrayList<>();
    for (Node n : cluster.nodes()) {
      String process = processState(n);
      Optional<MemberStatus> s = "running".equals(process) ? cluster.status(n) : Optional.empty();
      ObjectNode o = out.object();
      o.put("id", n.id());
      o.put("pid", n.pid());
      o.put("process", process);
      o.put("raftAddress", n.raftAddress());
      o.put("clientAddress", n.clientAddress());
      o.put("httpAddress", n.httpAddress());
      s.ifPresent(status -> o.set("status", out.proto(status)));
      json.add(o);
      rows.add(
          List.of(
              n.id(),
              n.pid() > 0 ? Long.toString(n.pid()) : "-",
              process,
              n.raftAddress() + "/" + n.clientPort(),
              field(s, x -> x.getRole().name()),
              field(s, x -> Long.toString(x.getTerm())),
              field(s, MemberStatus::getLeader),
              field(s, x -> Long.toString(x.getCommitIndex())),
              field(s, x -> Long.toString(x.getAppliedIndex())),
              field(s, x -> x.getReady() ? "yes" : "no")));
    }
    if (out.json()) {
      out.print(json);
    } else {
      out.table(
          rows,
          "NODE",
          "PID",
          "PROCESS",
          "PEER/CLIENT",
          "ROLE",
          "TERM",
          "LEADER",
          "COMMIT",
          "APPLIED",
          "READY");
    }
  }

  /** One column of a node's row: "-" when it gave no status or the value is empty. */
  private static String field(Optional<MemberStatus> status, Function<MemberStatus, String> value) {
    return status.map(value).filter(v -> !v.isEmpty()).orElse("-");
  }

  /** running, paused (SIGSTOP), or stopped, from the process table. */
  static String processState(Node n) {
    if (!n.alive()) {
      return "stopped";
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(n.pid()), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state == 'T' ? "paused" : "running";
    } catch (IOException | RuntimeException e) {
      return "running";
    }
  }

  @Command(name = "logs", description = "Print a node's log.")
  static final class Logs extends LocalVerb {
    @Parameters(paramLabel = "NODE", description = "Node id or 'leader'.")
    String node;

    @Option(
        names = {"-n", "--lines"},
        defaultValue = "50",
        description = "Last lines to print (default: ${DEFAULT-VALUE}).")
    int lines;

    @Option(
        names = {"-f", "--follow"},
        description = "Keep printing new lines (Ctrl-C to stop).")
    boolean follow;

    @Override
    public void run() throws Exception {
      LocalCluster cluster = cluster();
      Path log = cluster.logFile(cluster.node(node).id());
      if (!Files.exists(log)) {
        throw CliException.usage("no log yet at " + log);
      }
      List<String> all = Files.readAllLines(log);
      all.subList(Math.max(0, all.size() - lines), all.size()).forEach(root.out()::println);
      long position = Files.size(log);
      while (follow) {
        LocalCluster.sleep(Duration.ofMillis(300));
        long size = Files.size(log);
        if (size > position) {
          try (var in = Files.newInputStream(log)) {
            in.skipNBytes(position);
            root.out()
                .print(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            root.out().flush();
          }
          position = size;
        }
      }
    }
  }

  @Command(name = "kill", description = "Kill a node with SIGKILL, as a crash would.")
  static final class Kill extends LocalVerb {
    @Parameters(paramLabel = "NODE", description = "Node id or 'leader'.")
    String node;

    @Override
    public void run() throws Exception {
      LocalCluster cluster = cluster();
      Node n = cluster.node(node);
      requireAlive(n);
      cluster.kill(n);
      root.err().println("Killed " + n.id() + " (pid " + n.pid() + ") with SIGKILL");
    }
  }

  @Command(name = "pause", description = "Freeze a node with SIGSTOP.")
  static final class Pause extends LocalVerb {
    @Parameters(paramLabel = "NODE", description = "Node id or 'leader'.")
    String node;

    @Override
    public void run() throws Exception {
      LocalCluster cluster = cluster();
      Node n = cluster.node(node);
      requireAlive(n);
      cluster.signal(n, "STOP");
      root.err()
          .println(
              "Paused " + n.id() + " (pid " + n.pid() + ") with SIGSTOP; ./roost resume " + n.id());
    }
  }

  @Command(name = "resume", description = "Resume a paused node with SIGCONT.")
  static final class Resume extends LocalVerb {
    @Parameters(paramLabel = "NODE", description = "Node id.")
    String node;

    @Override
    public void run() throws Exception {
      LocalCluster cluster = cluster();
      Node n = cluster.node(node);
      requireAlive(n);
      cluster.signal(n, "CONT");
      root.err().println("Resumed " + n.id() + " (pid " + n.pid() + ") with SIGCONT");
    }
  }

  @Command(
      name = "restart",
      description = "Stop a node (SIGTERM) if it runs, start it again, wait until ready.")
  static final class Restart extends LocalVerb {
    @Parameters(paramLabel = "NODE", description = "Node id or 'leader'.")
    String node;

    @Override
    public void run() throws Exception {
      LocalCluster cluster = cluster();
      Node n = cluster.node(node);
      cluster.stop(n, Duration.ofSeconds(10));
      cluster.checkPortsFree(n);
      cluster.start(cluster.node(n.id()));
      root.err().println("Started " + n.id() + "; waiting until it has caught up...");
      cluster.awaitReady(List.of(cluster.node(n.id())), READY_TIMEOUT);
      printStatus(root, cluster);
    }
  }

  @Command(
      name = "add-node",
      description =
          "Start a new local server in join mode and add it to the group once it has caught up.")
  static final class AddNode extends LocalVerb {
    @Override
    public void run() throws Exception {
      LocalCluster cluster = cluster();
      Node n = cluster.newNode();
      try {
        cluster.checkPortsFree(n);
        cluster.startJoining(n);
        root.err().println("Started " + n.id() + " in join mode; adding it to the group...");
        awaitHttp(cluster, cluster.node(n.id()));
        admin(cluster).add(n.id(), n.addresses());
      } catch (Exception e) {
        // Never leave a half-added node behind: the group did not take it, so neither do we.
        cluster.stop(cluster.node(n.id()), Duration.ofSeconds(10));
        cluster.forget(n);
        throw e;
      }
      root.err().println("Added " + n.id() + " at " + n.addresses());
      cluster.awaitReady(List.of(cluster.node(n.id())), READY_TIMEOUT);
      printStatus(root, cluster);
    }
  }

  @Command(
      name = "remove-node",
      description =
          "Remove a node from the group (moving leadership away first if it leads), then stop it.")
  static final class RemoveNode extends LocalVerb {
    @Parameters(paramLabel = "NODE", description = "Node id or 'leader'.")
    String node;

    @Override
    public void run() throws Exception {
      LocalCluster cluster = cluster();
      Node n = cluster.node(node);
      admin(cluster).remove(n.id());
      cluster.stop(n, Duration.ofSeconds(10));
      cluster.forget(n);
      root.err().println("Removed " + n.id() + " from the group and stopped it");
      printStatus(root, cluster);
    }
  }

  /** The admin client for the local cluster, with its own secret. */
  static AdminClient admin(LocalCluster cluster) throws IOException {
    return new AdminClient(
        cluster.httpEndpoints(),
        Tls.of(cluster.caFile()),
        cluster.adminSecret(),
        Duration.ofSeconds(2));
  }

  /** Waits until a just-started node's HTTP endpoint answers, which it does before Ratis starts. */
  private static void awaitHttp(LocalCluster cluster, Node n) throws CliException {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (cluster.status(n).isEmpty()) {
      if (!n.alive()) {
        throw CliException.cluster(n.id() + " exited at start; see " + cluster.logFile(n.id()));
      }
      if (System.nanoTime() > deadline) {
        throw CliException.cluster(n.id() + " did not start; see " + cluster.logFile(n.id()));
      }
      LocalCluster.sleep(Duration.ofMillis(200));
    }
  }

  private static void requireAlive(Node n) throws CliException {
    if (!n.alive()) {
      throw CliException.usage(n.id() + " is not running (./roost restart " + n.id() + ")");
    }
  }
}

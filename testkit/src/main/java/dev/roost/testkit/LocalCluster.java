package dev.roost.testkit;

import dev.roost.pki.CertificateAuthority;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.Role;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * A Roost cluster of {@code roost-server} processes on this machine, remembered in one directory so
 * that later commands find it: {@code cluster.properties} (nodes, addresses, pids), {@code
 * data/<id>/} and {@code logs/<id>.log} per node. The one process cluster of the project: behind
 * the CLI's {@code up}, {@code kill}, {@code demo}, the failover benchmark, the chaos suite and the
 * integration tests.
 *
 * <p>Nodes run on loopback unless a {@linkplain #placement placement} puts each node's process into
 * a place of its own (the chaos suite's network namespaces, where partitions drop real packets);
 * the node's host is then the address it has there.
 *
 * <p>The cluster has an admin secret, generated when it is created and kept in {@code admin-secret}
 * (readable by its owner only); servers get it through {@code ROOST_ADMIN_SECRET}, never on the
 * command line, where other users could read it, and the local admin commands ({@code add-node},
 * {@code remove-node}, {@code cluster add} and the like) read it from there.
 *
 * <p>Processes are started detached (they outlive the CLI) and controlled by pid through {@link
 * ServerJvm}. Safe for one thread changing the cluster while others read its state.
 */
public final class LocalCluster {
  private static final String ADMIN_SECRET_FILE = "admin-secret";

  /**
   * One node: its id, the host its ports are on, its ports (peer, client, HTTP) and the pid of its
   * process (0 when not started by this cluster).
   */
  public record Node(String id, String host, int raftPort, int clientPort, int httpPort, long pid) {
    /** A node on loopback. */
    public Node(String id, int raftPort, int clientPort, int httpPort) {
      this(id, LOOPBACK, raftPort, clientPort, httpPort, 0);
    }

    /** Its peer address: Raft between members. */
    public String raftAddress() {
      return host + ":" + raftPort;
    }

    /** Its client address. */
    public String clientAddress() {
      return host + ":" + clientPort;
    }

    /** Its addresses as a peer list entry writes them: {@code PEER/CLIENT}. */
    public String addresses() {
      return raftAddress() + "/" + clientAddress();
    }

    public String httpAddress() {
      return host + ":" + httpPort;
    }

    public Node withPid(long newPid) {
      return new Node(id, host, raftPort, clientPort, httpPort, newPid);
    }

    public boolean alive() {
      return ServerJvm.alive(pid);
    }
  }

  /**
   * Runs a node's server command in the node's place: given the node id and the command, returns
   * the command to start instead (e.g. prefixed with {@code ip netns exec NS}).
   */
  @FunctionalInterface
  public interface Placement {
    List<String> wrap(String node, List<String> command);
  }

  private static final String LOOPBACK = "127.0.0.1";

  /** A local cluster's CA outlives any experiment. */
  private static final Duration CA_VALIDITY = Duration.ofDays(3650);

  /** Node certificates are renewed by deleting them and restarting the node. */
  private static final Duration NODE_VALIDITY = Duration.ofDays(825);

  private final Path home;
  private final Path serverJar;
  private final List<Node> nodes;
  private final List<String> serverArgs = new ArrayList<>();
  private List<String> jvm = ServerJvm.DEFAULT_JVM;
  private Placement placement = (node, command) -> command;
  private boolean readLease;
  private boolean insecure;

  /**
   * Made by a Roost whose members served clients and peers on one port: its Raft log names every
   * member by that one address, which its clients would now be sent to, so it cannot start again.
   */
  private boolean onePort;

  private volatile StatusProbe probe;

  private LocalCluster(Path home, Path serverJar, List<Node> nodes) {
    this.home = home;
    this.serverJar = serverJar;
    this.nodes = new CopyOnWriteArrayList<>(nodes);
  }

  /** The directory the launcher passes as {@code roost.home}, else {@code ./.roost}. */
  public static Path defaultHome() {
    String env = System.getenv("ROOST_HOME");
    String prop = System.getProperty("roost.home");
    return Path.of(prop != null ? prop : env != null ? env : ".roost").toAbsolutePath();
  }

  /** The server jar the launcher passes as {@code roost.server.jar}. */
  public static Path defaultServerJar() {
    String prop = System.getProperty("roost.server.jar");
    return Path.of(prop != null ? prop : "server/target/roost-server.jar").toAbsolutePath();
  }

  /** The cluster remembered in {@code home}, if there is one. */
  public static Optional<LocalCluster> load(Path home, Path serverJar) throws IOException {
    Path file = home.resolve("cluster.properties");
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    }
    List<Node> nodes = new ArrayList<>();
    boolean onePort = false;
    for (String id : p.getProperty("nodes", "").split(",")) {
      if (!id.isBlank()) {
        int raftPort = Integer.parseInt(p.getProperty(id + ".raft-port"));
        String clientPort = p.getProperty(id + ".client-port");
        onePort |= clientPort == null;
        nodes.add(
            new Node(
                id,
                p.getProperty(id + ".host", LOOPBACK),
                raftPort,
                clientPort == null ? raftPort + 200 : Integer.parseInt(clientPort),
                Integer.parseInt(p.getProperty(id + ".http-port")),
                Long.parseLong(p.getProperty(id + ".pid", "0"))));
      }
    }
    LocalCluster cluster = new LocalCluster(home, serverJar, nodes);
    cluster.onePort = onePort;
    cluster.readLease = Boolean.parseBoolean(p.getProperty("read-lease", "false"));
    cluster.insecure = Boolean.parseBoolean(p.getProperty("insecure", "false"));
    return Optional.of(cluster);
  }

  /**
   * A new cluster of {@code size} nodes n1..nN with Raft ports from {@code basePort}, HTTP ports
   * from {@code basePort + 100} and client ports from {@code basePort + 200}.
   */
  public static LocalCluster create(Path home, Path serverJar, int size, int basePort) {
    List<Node> nodes = new ArrayList<>();
    for (int i = 1; i <= size; i++) {
      nodes.add(node(i, basePort));
    }
    return new LocalCluster(home, serverJar, nodes);
  }

  /** A new cluster of the given nodes (not started; their pids are ignored). */
  public static LocalCluster create(Path home, Path serverJar, List<Node> nodes) {
    return new LocalCluster(home, serverJar, nodes.stream().map(n -> n.withPid(0)).toList());
  }

  /**
   * A new cluster of {@code size} nodes on the first block of ports from 17001 up (in steps of 300)
   * that is free now, for throwaway clusters (the demo, benchmarks).
   *
   * @throws ClusterException if no block below 30000 is free
   */
  public static LocalCluster createOnFreePorts(Path home, Path serverJar, int size)
      throws ClusterException {
    for (int base = 17001; base < 30000; base += 300) {
      LocalCluster candidate = create(home, serverJar, size, base);
      try {
        candidate.checkPortsFree();
        return candidate;
      } catch (ClusterException portTaken) {
        // the next block
      }
    }
    throw ClusterException.unavailable("no free ports for a local cluster between 17001 and 30000");
  }

  public Path home() {
    return home;
  }

  /**
   * Sets {@code --read-lease} for every later {@link #start}, remembered in {@code
   * cluster.properties}; every member must have the same setting, so change it only while all are
   * stopped.
   */
  public LocalCluster readLease(boolean on) {
    this.readLease = on;
    return this;
  }

  /**
   * Runs every later {@link #start} with {@code --insecure} (plaintext, no member authentication)
   * instead of TLS; remembered in {@code cluster.properties}. Change it only while all are stopped.
   */
  public LocalCluster insecure(boolean on) {
    this.insecure = on;
    this.probe = null;
    return this;
  }

  /** Whether the servers run with {@code --insecure}. */
  public boolean insecure() {
    return insecure;
  }

  /** Where the cluster's CA and the nodes' certificates and keys live. */
  public Path certsDir() {
    return home.resolve("certs");
  }

  /** The CA certificate clients of this cluster trust; empty when it runs {@code --insecure}. */
  public Optional<Path> caFile() {
    return insecure
        ? Optional.empty()
        : Optional.of(certsDir().resolve(CertificateAuthority.CERT_FILE));
  }

  /**
   * Makes the cluster's CA the first time, and {@code node}'s certificate and key the first time it
   * starts, naming its host, {@code localhost} and {@code 127.0.0.1}. The CA's key stays in {@link
   * #certsDir}, owner-only: a local cluster's operator is its CA.
   */
  private void ensureCertificates(Node node) throws IOException {
    Path dir = certsDir();
    CertificateAuthority ca;
    if (Files.exists(dir.resolve(CertificateAuthority.CERT_FILE))) {
      ca = CertificateAuthority.load(dir);
    } else {
      // Named apart from other local clusters' CAs, within the 64 characters a name may have.
      byte[] id = new byte[4];
      new SecureRandom().nextBytes(id);
      ca =
          CertificateAuthority.create(
              "Roost local cluster CA " + HexFormat.of().formatHex(id), CA_VALIDITY);
      ca.save(dir);
    }
    if (!Files.exists(dir.resolve(node.id() + ".crt"))) {
      List<String> names = new ArrayList<>(List.of(node.host(), "localhost", LOOPBACK));
      ca.issue(node.id(), names.stream().distinct().toList(), NODE_VALIDITY).save(dir, node.id());
    }
  }

  /**
   * Extra {@code roost-server} flags for every later {@link #start}, e.g. {@code
   * ("--snapshot-threshold", "200")}; they come after the flags this class sets. They are not
   * remembered in {@code cluster.properties}: a later command that loads the cluster starts nodes
   * without them.
   */
  public LocalCluster serverArgs(List<String> args) {
    serverArgs.clear();
    serverArgs.addAll(args);
    return this;
  }

  /**
   * The JVM flags of every later {@link #start} ({@link ServerJvm#DEFAULT_JVM} unless set); not
   * remembered in {@code cluster.properties}.
   */
  public LocalCluster jvm(List<String> flags) {
    this.jvm = List.copyOf(flags);
    return this;
  }

  /**
   * Where every later {@link #start} runs a node's process (on this host as it is, unless set); not
   * remembered in {@code cluster.properties}.
   */
  public LocalCluster placement(Placement placement) {
    this.placement = placement;
    return this;
  }

  /** The data directory of node {@code id} (its Raft log and snapshots are under {@code raft/}). */
  public Path dataDir(String id) {
    return home.resolve("data").resolve(id);
  }

  public List<Node> nodes() {
    return List.copyOf(nodes);
  }

  /** The peer list in the {@code id=PEER/CLIENT,...} syntax. */
  public String peers() {
    return String.join(",", nodes.stream().map(n -> n.id() + "=" + n.addresses()).toList());
  }

  public Path logFile(String id) {
    return home.resolve("logs").resolve(id + ".log");
  }

  private Path outFile(String id) {
    return home.resolve("logs").resolve(id + ".out");
  }

  /** The node named {@code id}, or the current leader for {@code leader}. */
  public Node node(String id) throws ClusterException {
    if (id.equalsIgnoreCase("leader")) {
      return leader()
          .orElseThrow(() -> ClusterException.unavailable("no node reports a leader now"));
    }
    return nodes.stream()
        .filter(n -> n.id().equals(id))
        .findFirst()
        .orElseThrow(
            () ->
                ClusterException.input(
                    "no node '"
                        + id
                        + "' in the local cluster; nodes: "
                        + String.join(", ", nodes.stream().map(Node::id).toList())));
  }

  /**
   * Checks that no port of {@code which} (all nodes when none are given) is taken, naming the first
   * one that is.
   */
  public void checkPortsFree(Node... which) throws ClusterException {
    for (Node n : which.length == 0 ? nodes : List.of(which)) {
      for (int port : new int[] {n.raftPort(), n.clientPort(), n.httpPort()}) {
        try (ServerSocket s = new ServerSocket()) {
          s.bind(new InetSocketAddress(n.host(), port));
        } catch (IOException e) {
          throw ClusterException.input(
              "port " + port + " is in use; choose other ports with --base-port");
        }
      }
    }
  }

  /** The HTTP endpoints of the nodes, for the admin commands. */
  public List<String> httpEndpoints() {
    return nodes.stream().map(Node::httpAddress).toList();
  }

  /**
   * The cluster's admin secret, created (random, owner-only file) on first use.
   *
   * @throws IOException if the file cannot be read or written
   */
  public String adminSecret() throws IOException {
    Path file = home.resolve(ADMIN_SECRET_FILE);
    if (Files.exists(file)) {
      return Files.readString(file).strip();
    }
    Files.createDirectories(home);
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    String secret = HexFormat.of().formatHex(random);
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, secret + "\n");
    return secret;
  }

  /**
   * A new node, next in id and ports after the highest existing ones, remembered but not started:
   * start it with {@link #startJoining}.
   */
  public Node newNode() throws IOException {
    int next =
        nodes.stream().mapToInt(n -> Integer.parseInt(n.id().substring(1))).max().orElse(0) + 1;
    int baseRaft =
        nodes.stream().mapToInt(n -> n.raftPort() - nodeNumber(n) + 1).min().orElse(7001);
    Node node = node(next, baseRaft);
    nodes.add(node);
    save();
    return node;
  }

  /** Node {@code n} of a cluster laid out from {@code basePort}, as {@link #create} lays it out. */
  private static Node node(int n, int basePort) {
    return new Node("n" + n, basePort + n - 1, basePort + 200 + n - 1, basePort + 100 + n - 1);
  }

  private static int nodeNumber(Node n) {
    return Integer.parseInt(n.id().substring(1));
  }

  /** Forgets {@code node} (stop it first): it is no longer part of the local cluster. */
  public void forget(Node node) throws IOException {
    nodes.removeIf(n -> n.id().equals(node.id()));
    save();
  }

  /** Starts {@code node}'s server process in join mode: it waits to be added to the group. */
  public void startJoining(Node node) throws IOException, ClusterException {
    start(node, true);
  }

  /** Starts {@code node}'s server process and remembers its pid. */
  public void start(Node node) throws IOException, ClusterException {
    start(node, false);
  }

  private void start(Node node, boolean join) throws IOException, ClusterException {
    if (!Files.isRegularFile(serverJar)) {
      throw ClusterException.input(
          "server jar not found at " + serverJar + "; build with ./mvnw package");
    }
    if (onePort) {
      throw ClusterException.input(
          "the cluster in "
              + home
              + " was made by an older Roost, with one port per member; its log names those"
              + " ports, so it cannot move to separate peer and client ports: ./roost down --wipe,"
              + " then ./roost up");
    }
    Files.createDirectories(home.resolve("logs"));
    Files.createDirectories(dataDir(node.id()));
    if (!insecure) {
      ensureCertificates(node);
    }
    Path out = outFile(node.id());
    Process p =
        ServerJvm.start(
            placement.wrap(node.id(), serverCommand(node, join)),
            out,
            out,
            Map.of("ROOST_ADMIN_SECRET", adminSecret()));
    replace(node.withPid(p.pid()));
    save();
  }

  /** The command line that starts {@code node}'s server with this cluster's settings. */
  List<String> serverCommand(Node node, boolean join) {
    List<String> command = new ArrayList<>();
    command.addAll(
        List.of(
            "--id", node.id(),
            // A joining node needs only its own address; the group's members come with the log.
            "--peers", join ? node.id() + "=" + node.addresses() : peers(),
            "--data-dir", dataDir(node.id()).toString(),
            "--http", node.httpAddress(),
            "--log-file", logFile(node.id()).toString()));
    if (join) {
      command.add("--join");
    }
    if (readLease) {
      command.add("--read-lease");
    }
    if (insecure) {
      command.add("--insecure");
    } else {
      Path dir = certsDir();
      command.addAll(
          List.of(
              "--tls-ca", dir.resolve(CertificateAuthority.CERT_FILE).toString(),
              "--tls-cert", dir.resolve(node.id() + ".crt").toString(),
              "--tls-key", dir.resolve(node.id() + ".key").toString()));
    }
    command.addAll(serverArgs);
    return ServerJvm.command(serverJar, jvm, command);
  }

  /** Starts every node's process. */
  public void startAll() throws IOException, ClusterException {
    for (Node n : nodes()) {
      start(n);
    }
  }

  /** Stops every node as {@link #stop} does, each within {@code grace}. */
  public void stopAll(Duration grace) throws IOException {
    for (Node n : nodes()) {
      stop(n, grace);
    }
  }

  /** Sends SIGTERM and waits for the process to exit, then SIGKILL if it did not in time. */
  public void stop(Node node, Duration grace) throws IOException {
    ServerJvm.stop(current(node).pid(), grace);
    replace(node.withPid(0));
    save();
  }

  /** Kills the process with SIGKILL, as a crash would. */
  public void kill(Node node) throws IOException {
    ServerJvm.kill(current(node).pid());
    replace(node.withPid(0));
    save();
  }

  /** Sends {@code signal} (STOP, CONT) to the node's process. */
  public void signal(Node node, String signal) throws IOException {
    ServerJvm.signal(current(node).pid(), signal);
  }

  /** Deletes the cluster's data, logs and state file. */
  public void wipe() throws IOException {
    if (!Files.exists(home)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(home)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** The {@code /status} of a node, or empty when it does not answer within a second. */
  public Optional<MemberStatus> status(Node node) {
    StatusProbe p = probe;
    if (p == null) {
      Optional<Path> ca = caFile();
      if (ca.isPresent() && !Files.exists(ca.get())) {
        // Nothing started yet, so nothing answers.
        return Optional.empty();
      }
      p = StatusProbe.trusting(ca);
      probe = p;
    }
    return p.fetch(node.httpAddress());
  }

  /**
   * The node that reports itself leader with the highest term now, if any (an old leader cut off
   * from the others may still believe it leads, in an older term).
   */
  public Optional<Node> leader() {
    Node best = null;
    long bestTerm = -1;
    for (Node n : nodes) {
      if (n.alive()) {
        Optional<MemberStatus> s = status(n);
        if (s.isPresent() && s.get().getRole() == Role.LEADER && s.get().getTerm() > bestTerm) {
          best = n;
          bestTerm = s.get().getTerm();
        }
      }
    }
    return Optional.ofNullable(best);
  }

  /** Whether the node's {@code /status} says it is ready (what {@code /ready} answers). */
  public boolean ready(Node node) {
    return status(node).map(MemberStatus::getReady).orElse(false);
  }

  /**
   * Waits until every node in {@code which} is ready.
   *
   * @throws ClusterException naming the nodes that are not, after {@code timeout}
   */
  public void awaitReady(List<Node> which, Duration timeout) throws ClusterException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<String> notReady = which.stream().filter(n -> !ready(current(n))).map(Node::id).toList();
      if (notReady.isEmpty()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw ClusterException.unavailable(
            "not ready after "
                + timeout.toSeconds()
                + " s: "
                + String.join(", ", notReady)
                + " (see "
                + home.resolve("logs")
                + ")");
      }
      sleep(Duration.ofMillis(200));
    }
  }

  private Node current(Node n) {
    return nodes.stream().filter(x -> x.id().equals(n.id())).findFirst().orElse(n);
  }

  public static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void replace(Node node) {
    nodes.replaceAll(n -> n.id().equals(node.id()) ? node : n);
  }

  /** Writes {@code cluster.properties}. */
  public void save() throws IOException {
    Files.createDirectories(home);
    Properties p = new Properties();
    p.setProperty("nodes", String.join(",", nodes.stream().map(Node::id).toList()));
    p.setProperty("read-lease", Boolean.toString(readLease));
    p.setProperty("insecure", Boolean.toString(insecure));
    for (Node n : nodes) {
      p.setProperty(n.id() + ".host", n.host());
      p.setProperty(n.id() + ".raft-port", Integer.toString(n.raftPort()));
      p.setProperty(n.id() + ".client-port", Integer.toString(n.clientPort()));
      p.setProperty(n.id() + ".http-port", Integer.toString(n.httpPort()));
      p.setProperty(n.id() + ".pid", Long.toString(n.pid()));
    }
    Path tmp = home.resolve("cluster.properties.tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      p.store(out, "Roost local cluster; written by ./roost, read by ./roost");
    }
    Files.move(
        tmp, home.resolve("cluster.properties"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}

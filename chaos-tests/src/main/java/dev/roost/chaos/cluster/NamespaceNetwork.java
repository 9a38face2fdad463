package dev.roost.chaos.cluster;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Each node in its own Linux network namespace ({@code roostchaos-<node>}) with its own address on
 * {@value #SUBNET}.0/24, joined by a veth pair to a bridge ({@value #BRIDGE}) that the harness
 * creates in the root namespace with address {@value #SUBNET}.254, which is where the clients
 * connect from. A partition is a set of blackhole routes inside the cut-off nodes' namespaces: the
 * kernel drops every packet to the other side, as a broken switch would.
 *
 * <p>Needs root and {@code ip} (iproute2). Every name starts with {@code roostchaos-} or {@code
 * rch}, so {@link #removeStale()} can clean up after a crashed run. A lock file makes concurrent
 * runs on one machine wait for each other instead of tearing down each other's namespaces.
 *
 * <p>Where bridge netfilter is on ({@code net.bridge.bridge-nf-call-iptables=1}, as Docker sets
 * it), the packets between the nodes cross the iptables FORWARD chain, whose policy Docker sets to
 * DROP. So where {@code iptables} exists, the harness puts a rule of its own first in that chain,
 * accepting what stays on its bridge, and removes it afterwards; nothing else of the host's rules
 * changes.
 */
final class NamespaceNetwork implements Network {
  static final String SUBNET = "10.213.77";
  static final String BRIDGE = "rchbr0";
  private static final String NS_PREFIX = "roostchaos-";
  private static final String LINK_PREFIX = "rch";
  private static final int RAFT_PORT = 7001;
  private static final int HTTP_PORT = 7101;
  private static final int CLIENT_PORT = 7201;
  private static final Path BRIDGE_NF = Path.of("/proc/sys/net/bridge/bridge-nf-call-iptables");
  private static final Path LOCK = Path.of(System.getProperty("java.io.tmpdir"), "roostchaos.lock");

  private final List<String> nodes;
  private final FileChannel lockChannel;
  private final FileLock lock;

  /** Whether this machine can make namespaces: root with {@code ip} on the path. */
  static boolean available() {
    return "root".equals(System.getProperty("user.name"))
        && Commands.succeeds(List.of("ip", "netns", "list"));
  }

  NamespaceNetwork(List<String> nodes) throws IOException {
    this.nodes = List.copyOf(nodes);
    this.lockChannel = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    this.lock = lockChannel.lock();
    try {
      removeStale();
      ip("link", "add", BRIDGE, "type", "bridge");
      ip("addr", "add", SUBNET + ".254/24", "dev", BRIDGE);
      ip("link", "set", BRIDGE, "up");
      if (iptables()) {
        Commands.run(forwardRule("-I"));
      }
      for (int i = 0; i < nodes.size(); i++) {
        String n = nodes.get(i);
        String ns = namespace(n);
        String outside = LINK_PREFIX + "-" + n;
        String inside = LINK_PREFIX + "p-" + n;
        ip("netns", "add", ns);
        ip("link", "add", outside, "type", "veth", "peer", "name", inside);
        ip("link", "set", inside, "netns", ns);
        ip("link", "set", outside, "master", BRIDGE, "up");
        ip("-n", ns, "link", "set", "lo", "up");
        ip("-n", ns, "addr", "add", address(i) + "/24", "dev", inside);
        ip("-n", ns, "link", "set", inside, "up");
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Removes every namespace and link with this harness's prefixes, killing the processes inside the
   * namespaces first: what a crashed earlier run left behind.
   */
  static void removeStale() throws IOException {
    boolean iptables = iptables();
    while (iptables && Commands.succeeds(forwardRule("-D"))) {
      // One rule per earlier run that did not clean up; each -D removes one.
    }
    for (String line : Commands.run(List.of("ip", "netns", "list")).split("\n")) {
      String ns = line.strip().split("\\s+")[0];
      if (ns.startsWith(NS_PREFIX)) {
        for (String pid : Commands.run(List.of("ip", "netns", "pids", ns)).split("\\s+")) {
          if (!pid.isBlank()) {
            Commands.runQuietly(List.of("kill", "-KILL", pid));
          }
        }
        Commands.runQuietly(List.of("ip", "netns", "del", ns));
      }
    }
    for (String line : Commands.run(List.of("ip", "-o", "link", "show")).split("\n")) {
      String[] parts = line.split(":\\s+");
      if (parts.length > 1) {
        String name = parts[1].split("@")[0];
        if (name.startsWith(LINK_PREFIX)) {
          Commands.runQuietly(List.of("ip", "link", "del", name));
        }
      }
    }
  }

  /** Whether this host has iptables, as every host that runs Docker does. */
  private static boolean iptables() {
    return Commands.succeeds(List.of("iptables", "-w", "-S", "FORWARD"));
  }

  /** The harness's FORWARD rule: {@code op} is -I to add it, -D to delete it. */
  private static List<String> forwardRule(String op) {
    return List.of(
        "iptables",
        "-w",
        op,
        "FORWARD",
        "-i",
        BRIDGE,
        "-o",
        BRIDGE,
        "-m",
        "comment",
        "--comment",
        NS_PREFIX + "bridge",
        "-j",
        "ACCEPT");
  }

  /**
   * Tries every pair of nodes, and this host to each node, on the Raft port; when nodes cannot
   * reach each other though this host reaches them, says so, with bridge netfilter's setting.
   */
  @Override
  public Optional<String> diagnose() {
    List<String> unreachable = new ArrayList<>();
    for (String from : nodes) {
      if (!reaches(List.of(), host(from))) {
        return Optional.of(
            "this host cannot reach " + from + " at " + host(from) + ":" + RAFT_PORT);
      }
      for (String to : nodes) {
        if (!from.equals(to) && !reaches(wrap(from, List.of()), host(to))) {
          unreachable.add(from + " -> " + to);
        }
      }
    }
    if (unreachable.isEmpty()) {
      return Optional.empty();
    }
    String nf;
    try {
      nf = Files.readString(BRIDGE_NF).strip();
    } catch (IOException e) {
      nf = "unknown";
    }
    return Optional.of(
        "packets between the nodes' namespaces are dropped ("
            + String.join(", ", unreachable)
            + " cannot connect, though this host reaches every node); "
            + ("1".equals(nf)
                ? "bridge netfilter is on (net.bridge.bridge-nf-call-iptables=1), so the iptables"
                    + " FORWARD chain filters bridge "
                    + BRIDGE
                    + ": is its policy DROP (Docker sets it) and iptables missing here?"
                : "bridge netfilter is " + nf + "; look for routes or rules that drop them"));
  }

  /** Whether a TCP connection to {@code host}'s Raft port opens from the place {@code prefix}. */
  private static boolean reaches(List<String> prefix, String host) {
    List<String> command = new ArrayList<>(prefix);
    command.addAll(
        List.of("timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/" + host + "/" + RAFT_PORT));
    return Commands.succeeds(command);
  }

  private static void ip(String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add("ip");
    command.addAll(List.of(args));
    Commands.run(command);
  }

  private static String namespace(String node) {
    return NS_PREFIX + node;
  }

  private String address(int index) {
    return SUBNET + "." + (index + 1);
  }

  @Override
  public String host(String node) {
    return address(nodes.indexOf(node));
  }

  @Override
  public int raftPort(String node) {
    return RAFT_PORT;
  }

  @Override
  public int httpPort(String node) {
    return HTTP_PORT;
  }

  @Override
  public int clientPort(String node) {
    return CLIENT_PORT;
  }

  @Override
  public List<String> wrap(String node, List<String> command) {
    // ip netns exec execs the command itself, so the pid we get is the server's.
    List<String> wrapped = new ArrayList<>(List.of("ip", "netns", "exec", namespace(node)));
    wrapped.addAll(command);
    return wrapped;
  }

  @Override
  public boolean supportsPartitions() {
    return true;
  }

  @Override
  public void cut(Map<String, Set<String>> unreachable) throws IOException {
    heal();
    for (Map.Entry<String, Set<String>> e : unreachable.entrySet()) {
      for (String other : e.getValue()) {
        ip("-n", namespace(e.getKey()), "route", "add", "blackhole", host(other) + "/32");
      }
    }
  }

  @Override
  public void heal() throws IOException {
    for (String n : nodes) {
      ip("-n", namespace(n), "route", "flush", "type", "blackhole");
    }
  }

  @Override
  public String describe() {
    return "network namespaces " + NS_PREFIX + "* on bridge " + BRIDGE + " " + SUBNET + ".0/24";
  }

  @Override
  public void close() throws IOException {
    try {
      removeStale();
    } finally {
      lock.release();
      lockChannel.close();
    }
  }
}

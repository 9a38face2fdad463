package dev.roost.chaos.cluster;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * All nodes on 127.0.0.1 with ports free at creation: works without privileges, but cannot
 * partition (loopback traffic cannot be dropped per peer without root).
 */
final class LoopbackNetwork implements Network {
  private final Map<String, int[]> ports = new HashMap<>();

  LoopbackNetwork(List<String> nodes) throws IOException {
    Set<Integer> taken = new HashSet<>();
    for (String n : nodes) {
      ports.put(n, new int[] {freePort(taken), freePort(taken), freePort(taken)});
    }
  }

  /**
   * A port free now and not yet in {@code taken}: Linux often returns a port it has just handed out
   * and had released again, so two nodes could otherwise be given the same one.
   */
  private static int freePort(Set<Integer> taken) throws IOException {
    while (true) {
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress("127.0.0.1", 0));
        if (taken.add(s.getLocalPort())) {
          return s.getLocalPort();
        }
      }
    }
  }

  @Override
  public String host(String node) {
    return "127.0.0.1";
  }

  @Override
  public int raftPort(String node) {
    return ports.get(node)[0];
  }

  @Override
  public int httpPort(String node) {
    return ports.get(node)[1];
  }

  @Override
  public int clientPort(String node) {
    return ports.get(node)[2];
  }

  @Override
  public List<String> wrap(String node, List<String> command) {
    return command;
  }

  @Override
  public boolean supportsPartitions() {
    return false;
  }

  @Override
  public void cut(Map<String, Set<String>> unreachable) {
    throw new UnsupportedOperationException("loopback network cannot partition");
  }

  @Override
  public void heal() {}

  @Override
  public String describe() {
    return "loopback (no partitions)";
  }

  @Override
  public void close() {}
}

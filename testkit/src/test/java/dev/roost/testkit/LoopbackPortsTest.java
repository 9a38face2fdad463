package dev.roost.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LoopbackPortsTest {
  @Test
  void portsAreNeverHandedOutTwiceAndAreFreeOutsideTheEphemeralRange() throws IOException {
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 2_000; i++) {
      int port = LoopbackPorts.one();
      assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
      assertThat(port).isBetween(1024, 32_767);
      bind(port).close();
    }
  }

  @Test
  void aClusterBlockSkipsPortsInUse() throws IOException {
    int first = LoopbackPorts.cluster(3);
    int following = first + LoopbackPorts.HTTP_OFFSET + 3;
    try (ServerSocket busy = bind(following + 1)) {
      int base = LoopbackPorts.cluster(3);
      for (int port = base; port < base + 3; port++) {
        bind(port).close();
        bind(port + LoopbackPorts.HTTP_OFFSET).close();
      }
      assertThat(base).as("the block with a port in use").isNotEqualTo(following);
    }
  }

  private static ServerSocket bind(int port) throws IOException {
    ServerSocket s = new ServerSocket();
    s.bind(new InetSocketAddress(port));
    return s;
  }
}

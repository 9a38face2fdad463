package dev.roost.chaos.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class LoopbackNetworkTest {
  @Test
  void noTwoNodesShareAPort() throws IOException {
    List<String> nodes = IntStream.range(0, 200).mapToObj(i -> "n" + i).toList();
    LoopbackNetwork network = new LoopbackNetwork(nodes);
    Set<Integer> ports = new HashSet<>();
    for (String n : nodes) {
      ports.add(network.raftPort(n));
      ports.add(network.httpPort(n));
    }
    assertThat(ports).hasSize(2 * nodes.size());
  }
}

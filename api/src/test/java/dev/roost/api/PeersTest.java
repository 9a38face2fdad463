package dev.roost.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.Test;

class PeersTest {
  @Test
  void anEntryNamesThePeerAddressAndTheClientAddressOrItsPort() {
    List<RaftPeer> peers = Peers.parse("n1=10.0.0.1:7001/7002,n2=10.0.0.2:7001/10.0.1.2:9000");

    assertThat(peers.get(0).getAddress()).isEqualTo("10.0.0.1:7001");
    assertThat(Peers.clientAddress(peers.get(0))).isEqualTo("10.0.0.1:7002");
    assertThat(Peers.clientAddress(peers.get(1))).isEqualTo("10.0.1.2:9000");
    assertThat(Peers.format(peers))
        .isEqualTo("n1=10.0.0.1:7001/10.0.0.1:7002,n2=10.0.0.2:7001/10.0.1.2:9000");
    assertThat(Peers.parse(Peers.format(peers))).isEqualTo(peers);
  }

  @Test
  void aClientsSingleAddressIsItsClientAddress() {
    RaftPeer p = Peers.parse("n1=h:7002").get(0);

    assertThat(Peers.hasClientAddress(p)).isFalse();
    assertThat(Peers.clientAddress(p)).isEqualTo("h:7002");
    assertThat(Peers.format(List.of(p))).isEqualTo("n1=h:7002");
  }

  @Test
  void badEntriesNameWhatIsWrong() {
    assertThatThrownBy(() -> Peers.parse("n1=h:7001/"))
        .hasMessage("bad address 'h:': expected host:port");
    assertThatThrownBy(() -> Peers.parse("n1=h:7001/h:7001"))
        .hasMessage(
            "bad peer 'n1=h:7001/h:7001': the client address must differ from the peer address");
    assertThatThrownBy(() -> Peers.parse("n1=h:7001/99999"))
        .hasMessage("port out of range in 'h:99999'");
    assertThatThrownBy(() -> Peers.parse("n1=h:7001/7002,n1=h:7003/7004"))
        .hasMessage("peer id 'n1' appears twice");
  }
}

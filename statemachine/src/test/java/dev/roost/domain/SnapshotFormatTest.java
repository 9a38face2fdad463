package dev.roost.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roost.domain.SnapshotFormat.CorruptSnapshotException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SnapshotFormatTest {
  private static byte[] snapshotOfSomeState() throws IOException {
    Harness h = new Harness();
    h.register("alice");
    h.register("bob");
    h.follow("alice", "bob");
    h.post("bob", "hello");
    h.apply(new Command.KvPut("k", new byte[] {1, 2, 3}));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SnapshotFormat.write(h.state, out);
    return out.toByteArray();
  }

  private static RoostState read(byte[] bytes) throws IOException {
    return SnapshotFormat.read(new ByteArrayInputStream(bytes), Limits.DEFAULT);
  }

  @Test
  void readsWhatItWrote() throws IOException {
    RoostState s = read(snapshotOfSomeState());
    assertThat(s.userCount()).isEqualTo(2);
    assertThat(s.followEdgeCount()).isEqualTo(1);
    assertThat(s.postCount()).isEqualTo(1);
    assertThat(s.keyCount()).isEqualTo(1);
  }

  @Test
  void emptyStateRoundTrips() throws IOException {
    RoostState empty = new RoostState(Limits.DEFAULT);
    assertThat(RoostStatePropertiesTest.roundTrip(empty).digest()).isEqualTo(empty.digest());
  }

  @Test
  void truncatedIsCorrupt() throws IOException {
    byte[] bytes = snapshotOfSomeState();
    for (int length : new int[] {0, 5, 12, bytes.length / 2, bytes.length - 1}) {
      assertThatThrownBy(() -> read(Arrays.copyOf(bytes, length)))
          .isInstanceOf(CorruptSnapshotException.class);
    }
  }

  @Test
  void foreignFileIsCorrupt() {
    assertThatThrownBy(() -> read("not a snapshot at all".getBytes()))
        .isInstanceOf(CorruptSnapshotException.class)
        .hasMessageContaining("magic");
  }

  @Test
  void otherVersionIsRefused() throws IOException {
    byte[] bytes = snapshotOfSomeState();
    ByteBuffer.wrap(bytes).putInt(8, 99);
    assertThatThrownBy(() -> read(bytes))
        .isInstanceOf(CorruptSnapshotException.class)
        .hasMessageContaining("version 99");
  }

  @Test
  void trailingBytesAreCorrupt() throws IOException {
    byte[] bytes = snapshotOfSomeState();
    assertThatThrownBy(() -> read(Arrays.copyOf(bytes, bytes.length + 1)))
        .isInstanceOf(CorruptSnapshotException.class);
  }
}

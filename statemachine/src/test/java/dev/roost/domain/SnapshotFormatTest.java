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
    return load(bytes);
  }

  /** Loads a snapshot as the snapshot store loads a file: the checksum pass, then the reader. */
  static RoostState load(byte[] bytes) throws IOException {
    long length = SnapshotFormat.verify(new ByteArrayInputStream(bytes));
    return SnapshotFormat.read(new ByteArrayInputStream(bytes), length);
  }

  /** The settings section: configured, post length, six quotas, sessions, replies, timeout. */
  static final int SETTINGS_BYTES = 1 + 4 + 8 + 8 + 8 + 4 + 8 + 8 + 4 + 4 + 8;

  /** A snapshot of one user with one post, and the offset of that user's post count in it. */
  private static byte[] snapshotWithOnePost() throws IOException {
    Harness h = new Harness();
    h.register("bob");
    h.post("bob", "hello");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SnapshotFormat.write(h.state, out);
    return out.toByteArray();
  }

  // "ROOSTSNP", version, time, settings, user count; "bob", display name "", created at,
  // following 0.
  private static final int POST_COUNT_OFFSET = 8 + 4 + 8 + SETTINGS_BYTES + 4 + (4 + 3) + 4 + 8 + 4;

  private static byte[] withHugePostCount(byte[] snapshot, boolean recomputeChecksum) {
    byte[] bytes = snapshot.clone();
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    assertThat(buffer.getInt(POST_COUNT_OFFSET)).as("the post count field").isEqualTo(1);
    buffer.putInt(POST_COUNT_OFFSET, Integer.MAX_VALUE);
    if (recomputeChecksum) {
      SnapshotBytes.rechecksum(bytes);
    }
    return bytes;
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
  void aHugeCountIsRefusedByTheChecksumPassBeforeAnythingIsParsed() throws IOException {
    byte[] bytes = withHugePostCount(snapshotWithOnePost(), false);
    assertThatThrownBy(() -> SnapshotFormat.verify(new ByteArrayInputStream(bytes)))
        .isInstanceOf(CorruptSnapshotException.class)
        .hasMessageContaining("checksum");
  }

  @Test
  void aHugeCountWithAMatchingChecksumIsRefusedForTheBytesLeft() throws IOException {
    // Only the count's bound can catch this one: the checksum matches.
    byte[] bytes = withHugePostCount(snapshotWithOnePost(), true);
    assertThatThrownBy(() -> read(bytes))
        .isInstanceOf(CorruptSnapshotException.class)
        .hasMessageContaining("bad count " + Integer.MAX_VALUE);
  }

  @Test
  void postsOutOfIdOrderAreCorruptEvenWithAMatchingChecksum() throws IOException {
    Harness h = new Harness();
    h.register("bob");
    h.post("bob", "one");
    h.post("bob", "two");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SnapshotFormat.write(h.state, out);
    byte[] bytes = out.toByteArray();
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    // After the post count: id, time and "one" (4 + 3 bytes), then the second post's id.
    int first = POST_COUNT_OFFSET + 4;
    int second = first + 8 + 8 + 4 + 3;
    long firstId = buffer.getLong(first);
    buffer.putLong(first, buffer.getLong(second));
    buffer.putLong(second, firstId);
    SnapshotBytes.rechecksum(bytes);

    assertThatThrownBy(() -> read(bytes))
        .isInstanceOf(CorruptSnapshotException.class)
        .hasMessageContaining("out of id order");
  }

  @Test
  void anInputOfAnotherLengthThanGivenIsCorrupt() throws IOException {
    byte[] bytes = snapshotOfSomeState();
    for (long length : new long[] {0, bytes.length - 1, bytes.length + 1, Long.MAX_VALUE}) {
      assertThatThrownBy(() -> SnapshotFormat.read(new ByteArrayInputStream(bytes), length))
          .as("length %d", length)
          .isInstanceOf(CorruptSnapshotException.class);
    }
  }

  @Test
  void trailingBytesAreCorrupt() throws IOException {
    byte[] bytes = snapshotOfSomeState();
    assertThatThrownBy(() -> read(Arrays.copyOf(bytes, bytes.length + 1)))
        .isInstanceOf(CorruptSnapshotException.class);
  }
}

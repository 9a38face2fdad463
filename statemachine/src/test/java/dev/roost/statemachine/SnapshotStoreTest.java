package dev.roost.statemachine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.domain.Command;
import dev.roost.domain.Limits;
import dev.roost.domain.RequestId;
import dev.roost.domain.RoostState;
import dev.roost.domain.SnapshotBytes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.server.storage.StorageImplUtils;
import org.apache.ratis.util.MD5FileUtil;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The snapshot files of one member, on a real Ratis storage directory but without a server. */
class SnapshotStoreTest {
  @TempDir Path dir;
  private RaftStorage raftStorage;

  @AfterEach
  void close() throws IOException {
    if (raftStorage != null) {
      raftStorage.close();
    }
  }

  @Test
  void anEmptyDirectoryHasNoSnapshot() throws IOException {
    assertThat(new SnapshotStore().open(storage(), "n1")).isNull();
  }

  @Test
  void aPublishedSnapshotIsLoadedOnOpenAndKnownToRatis() throws IOException {
    SnapshotStore store = new SnapshotStore();
    assertThat(store.open(storage(), "n1")).isNull();

    Path file = store.write(stateWithUsers(3), TermIndex.valueOf(2, 40));
    long bytes = store.publish(file, TermIndex.valueOf(2, 40));

    assertThat(file.getFileName()).hasToString("snapshot.2_40");
    assertThat(bytes).isEqualTo(Files.size(file));
    assertThat(MD5FileUtil.getDigestFileForFile(file.toFile())).exists();
    assertThat(store.storage().getLatestSnapshot().getTermIndex())
        .isEqualTo(TermIndex.valueOf(2, 40));
    assertThat(files()).noneMatch(n -> n.endsWith(".tmp"));

    SnapshotStore.Loaded loaded = new SnapshotStore().open(reopened(), "n1");
    assertThat(loaded.appliedUpTo()).isEqualTo(TermIndex.valueOf(2, 40));
    assertThat(loaded.state().userCount()).isEqualTo(3);
  }

  @Test
  void aSnapshotWrittenButNotPublishedBeforeACrashIsLoadedAndKnownToRatis() throws IOException {
    SnapshotStore store = new SnapshotStore();
    store.open(storage(), "n1");
    store.publish(
        store.write(stateWithUsers(2), TermIndex.valueOf(1, 10)), TermIndex.valueOf(1, 10));
    Path unpublished = store.write(stateWithUsers(3), TermIndex.valueOf(2, 40));

    SnapshotStore restarted = new SnapshotStore();
    SnapshotStore.Loaded loaded = restarted.open(reopened(), "n1");

    assertThat(loaded.state().userCount()).isEqualTo(3);
    assertThat(MD5FileUtil.getDigestFileForFile(unpublished.toFile())).exists();
    assertThat(restarted.storage().getLatestSnapshot().getTermIndex())
        .isEqualTo(TermIndex.valueOf(2, 40));
  }

  @Test
  void aCorruptNewestSnapshotIsSetAsideAndTheOlderOneLoaded() throws IOException {
    SnapshotStore store = new SnapshotStore();
    store.open(storage(), "n1");
    store.publish(
        store.write(stateWithUsers(1), TermIndex.valueOf(1, 10)), TermIndex.valueOf(1, 10));
    Path newest = store.write(stateWithUsers(2), TermIndex.valueOf(1, 20));
    store.publish(newest, TermIndex.valueOf(1, 20));
    byte[] bytes = Files.readAllBytes(newest);
    bytes[bytes.length / 2] ^= 0x5a;
    Files.write(newest, bytes);

    SnapshotStore reopened = new SnapshotStore();
    SnapshotStore.Loaded loaded = reopened.open(reopened(), "n1");

    assertThat(loaded.appliedUpTo()).isEqualTo(TermIndex.valueOf(1, 10));
    assertThat(loaded.state().userCount()).isEqualTo(1);
    assertThat(files()).contains("snapshot.1_20.corrupt").doesNotContain("snapshot.1_20.md5");
    // Ratis is never told of the corrupt one, so it never sends it to a follower.
    assertThat(reopened.storage().getLatestSnapshot().getTermIndex())
        .isEqualTo(TermIndex.valueOf(1, 10));
  }

  /**
   * A count in the file is believed only once the file is known intact, and never beyond the bytes
   * it could describe: a post count flipped to 2^31 - 1 would otherwise allocate a list of that
   * many slots (8 GiB, past this test JVM's heap) before the checksum at the end is read.
   */
  @ParameterizedTest(name = "checksum recomputed: {0}")
  @ValueSource(booleans = {false, true})
  void aSnapshotWithAHugeCountIsSetAsideNotAllocated(boolean checksumRecomputed)
      throws IOException {
    SnapshotStore store = new SnapshotStore();
    store.open(storage(), "n1");
    store.publish(
        store.write(stateWithUsers(1), TermIndex.valueOf(1, 10)), TermIndex.valueOf(1, 10));
    RoostState oneAuthor = stateWithUsers(1);
    oneAuthor.apply(RequestId.of(1, 2, 1), new Command.CreatePost("user1", "hello"), 11, 1000);
    Path newest = store.write(oneAuthor, TermIndex.valueOf(1, 20));
    store.publish(newest, TermIndex.valueOf(1, 20));
    byte[] bytes = Files.readAllBytes(newest);
    // "ROOSTSNP", version, time, settings, user count; "user1", display name "", created at,
    // following 0.
    int postCount = 8 + 4 + 8 + 65 + 4 + (4 + 5) + 4 + 8 + 4;
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    assertThat(buffer.getInt(postCount)).as("the post count field").isEqualTo(1);
    buffer.putInt(postCount, Integer.MAX_VALUE);
    if (checksumRecomputed) {
      SnapshotBytes.rechecksum(bytes);
    }
    Files.write(newest, bytes);

    SnapshotStore reopened = new SnapshotStore();
    SnapshotStore.Loaded loaded = reopened.open(reopened(), "n1");

    assertThat(loaded.appliedUpTo()).isEqualTo(TermIndex.valueOf(1, 10));
    assertThat(files()).contains("snapshot.1_20.corrupt");
  }

  private static RoostState stateWithUsers(int users) {
    RoostState state = new RoostState(Limits.DEFAULT);
    state.openSession(1, 1000);
    for (int i = 1; i <= users; i++) {
      state.apply(RequestId.of(1, i, 1), new Command.RegisterUser("user" + i, ""), i, 1000);
    }
    return state;
  }

  private RaftStorage storage() throws IOException {
    return open(RaftStorage.StartupOption.FORMAT);
  }

  private RaftStorage reopened() throws IOException {
    raftStorage.close();
    return open(RaftStorage.StartupOption.RECOVER);
  }

  private RaftStorage open(RaftStorage.StartupOption option) throws IOException {
    raftStorage =
        StorageImplUtils.newRaftStorage(
            dir.toFile(),
            SizeInBytes.valueOf("16KB"),
            option,
            RaftServerConfigKeys.Log.CorruptionPolicy.EXCEPTION);
    raftStorage.initialize();
    return raftStorage;
  }

  private List<String> files() throws IOException {
    try (Stream<Path> files =
        Files.list(raftStorage.getStorageDir().getStateMachineDir().toPath())) {
      return files.map(p -> p.getFileName().toString()).toList();
    }
  }
}

package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.api.Peers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LostDiskGuardTest {
  @Test
  void aMemberNoPeerKnowsOfMayStartEmpty() {
    assertThat(LostDiskGuard.refusal("n3", Map.of())).isEmpty();
    assertThat(LostDiskGuard.refusal("n3", Map.of("n1", 0L, "n2", 0L))).isEmpty();
  }

  @Test
  void aMemberAPeerKnowsHadCommittedIsRefusedNamingThePeerThatKnowsMost() {
    assertThat(LostDiskGuard.refusal("n3", Map.of("n1", 5123L, "n2", 40L)))
        .hasValue(
            "n3 holds no Raft state, but n1 knows it had committed up to index 5123: its disk"
                + " was lost");
  }

  @Test
  void raftStateIsTheGroupsStorageDirectory(@TempDir Path storage) throws Exception {
    assertThat(LostDiskGuard.hasRaftState(storage)).isFalse();
    Files.createDirectories(
        storage.resolve(Peers.GROUP_ID.getUuid().toString()).resolve("current"));
    assertThat(LostDiskGuard.hasRaftState(storage)).isTrue();
  }
}

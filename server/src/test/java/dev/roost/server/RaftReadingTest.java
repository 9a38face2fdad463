package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RaftReadingTest {
  private static RaftReading follower(String leader, long applied, long leaderCommit) {
    return new RaftReading(
        "n2", true, true, "FOLLOWER", 3, leader, false, applied, applied, leaderCommit, List.of());
  }

  @Test
  void aFollowerThatAppliedTheLeadersCommitIndexIsReady() {
    assertThat(follower("n1", 10, 10).notReadyReason()).isEmpty();
  }

  @Test
  void aFollowerFarBehindTheLeadersCommitIndexIsCatchingUp() {
    assertThat(follower("n1", 7, 5_000).notReadyReason())
        .contains("catching up: applied 7 of leader's commit 5000");
  }

  @Test
  void aFollowerTrailingByTheEntriesInFlightStaysReady() {
    long commit = 5_000;
    assertThat(follower("n1", commit - RaftReading.CATCH_UP_SLACK, commit).notReadyReason())
        .isEmpty();
    assertThat(follower("n1", commit - RaftReading.CATCH_UP_SLACK - 1, commit).notReadyReason())
        .isPresent();
  }

  @Test
  void withoutALeaderNoMemberIsReady() {
    assertThat(follower(null, 10, -1).notReadyReason())
        .contains("no leader known (role FOLLOWER, term 3)");
  }

  @Test
  void aFollowerThatHasNotHeardTheLeadersCommitIndexIsNotReady() {
    assertThat(follower("n1", 0, -1).notReadyReason())
        .contains("leader's commit index not known yet");
  }

  @Test
  void aLeaderIsReadyOnlyOnceItCommittedAnEntryOfItsTerm() {
    RaftReading fresh =
        new RaftReading("n1", true, true, "LEADER", 3, "n1", false, 10, 10, 10, List.of());
    RaftReading settled =
        new RaftReading("n1", true, true, "LEADER", 3, "n1", true, 11, 11, 11, List.of());

    assertThat(fresh.notReadyReason()).contains("leader has not committed an entry of term 3 yet");
    assertThat(settled.notReadyReason()).isEmpty();
  }

  @Test
  void aClosedOrRemovedMemberIsNotReady() {
    RaftReading closed =
        new RaftReading("n2", false, true, "FOLLOWER", 3, "n1", false, 10, 10, 10, List.of());
    RaftReading removed =
        new RaftReading("n2", true, false, "FOLLOWER", 3, "n1", false, 10, 10, 10, List.of());

    assertThat(closed.notReadyReason()).contains("raft server closed");
    assertThat(removed.notReadyReason()).contains("not a member of the group");
  }
}

package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class PeerClocksTest {
  private static final long NOW = 1_800_000_000_000L;
  private static final long YEAR = 365L * 24 * 3600 * 1000;

  @Test
  void aLeaderAheadOfBothPeersStampsTheirTime() {
    // The peers' clocks read a year behind ours (and 20 ms apart): a majority of the clocks reads
    // at most the later of theirs.
    assertThat(stamp(List.of(-YEAR, -YEAR + 20), 3)).isEqualTo(NOW - YEAR + 20);
  }

  @Test
  void oneClockAheadOrBehindMovesNothing() {
    assertThat(stamp(List.of(0L, YEAR), 3)).isEqualTo(NOW);
    assertThat(stamp(List.of(-YEAR, 3L), 3)).isEqualTo(NOW);
    // Five voters: two peers behind are not a majority against ours and two others.
    assertThat(stamp(List.of(-YEAR, -YEAR, 5L, -5L), 5)).isEqualTo(NOW);
    assertThat(stamp(List.of(-YEAR, -YEAR, -YEAR, -5L), 5)).isEqualTo(NOW - YEAR);
  }

  @Test
  void aSmallDifferenceIsNoReasonToLeaveOurClock() {
    assertThat(stamp(List.of(-PeerClocks.TOLERANCE_MS, -900L), 3)).isEqualTo(NOW);
  }

  @Test
  void withoutAMajorityAgainstOurClockNothingCanBeTold() {
    // Ours and one peer's of three: two clocks a year apart, and nothing says which is wrong.
    assertThat(stamp(List.of(-YEAR), 3)).isEqualTo(NOW);
    assertThat(stamp(List.of(-YEAR, -YEAR), 5)).isEqualTo(NOW);
    assertThat(stamp(List.of(), 3)).isEqualTo(NOW);
    assertThat(stamp(List.of(), 1)).isEqualTo(NOW);
  }

  /** What a member stamps, its clock at NOW, given its fresh readings of the other voters'. */
  private static long stamp(List<Long> peerOffsetsMs, int voters) {
    return PeerClocks.bounded(NOW, PeerClocks.ahead(peerOffsetsMs, voters));
  }
}

package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StallWatchTest {
  private long now;
  private Optional<RaftReading> reading = Optional.empty();
  private final StallWatch watch = new StallWatch(() -> reading, () -> now);

  private static RaftReading follower(long applied, long leaderCommit) {
    return new RaftReading(
        "n3", true, true, "FOLLOWER", 4, "n1", false, applied, applied, leaderCommit, List.of());
  }

  /** Samples once a second for {@code seconds}. */
  private void run(int seconds) {
    for (int i = 0; i < seconds; i++) {
      now += 1000;
      watch.sample();
    }
  }

  @Test
  void aFollowerBehindItsLeaderThatAppliesNothingForTheBoundIsStuck() {
    reading = Optional.of(follower(948, 2034));
    watch.sample();

    run((int) StallWatch.BOUND.toSeconds() - 1);
    assertThat(watch.stalled()).isEmpty();
    run(1);

    assertThat(watch.stalled())
        .hasValue(
            "stuck: applied index 948 has not moved for 120 s while leader n1 has committed 2034"
                + " (term 4); restart this member");
  }

  @Test
  void aFollowerThatKeepsApplyingIsNeverStuck() {
    for (int i = 0; i < 300; i++) {
      reading = Optional.of(follower(i, 100_000));
      run(1);
    }

    assertThat(watch.stalled()).isEmpty();
  }

  @Test
  void aFollowerThatHasAppliedEverythingIsNeverStuckWhateverTheTime() {
    reading = Optional.of(follower(2034, 2034));

    run(600);

    assertThat(watch.stalled()).isEmpty();
  }

  @Test
  void theLeaderAndAMemberWithoutALeaderAreNeverStuck() {
    reading =
        Optional.of(
            new RaftReading("n1", true, true, "LEADER", 4, "n1", true, 50, 10, 50, List.of()));
    run(600);
    reading =
        Optional.of(
            new RaftReading("n3", true, true, "CANDIDATE", 5, null, false, 50, 10, -1, List.of()));
    run(600);

    assertThat(watch.stalled()).isEmpty();
  }

  @Test
  void timeSpentCaughtUpDoesNotCountTowardsTheBound() {
    reading = Optional.of(follower(948, 948));
    run(600);
    reading = Optional.of(follower(948, 2034));

    run(60);

    assertThat(watch.stalled()).isEmpty();
  }

  @Test
  void aStuckMemberThatMovesAgainIsNoLongerStuck() {
    reading = Optional.of(follower(948, 2034));
    run(200);
    assertThat(watch.stalled()).isPresent();

    reading = Optional.of(follower(1000, 2034));
    run(1);

    assertThat(watch.stalled()).isEmpty();
  }
}

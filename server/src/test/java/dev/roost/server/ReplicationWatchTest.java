package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.proto.StatusCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ReplicationWatchTest {
  private static final int BOUND = (int) ReplicationWatch.BOUND.toSeconds();

  private long now;
  private Optional<ReplicationWatch.Reading> reading = Optional.empty();
  private final List<String> transfers = new ArrayList<>();
  private int stuck;
  private boolean refuse;
  private final ReplicationWatch watch =
      new ReplicationWatch(
          () -> reading,
          () -> now,
          to -> {
            transfers.add(to);
            if (refuse) {
              throw new AdminException(StatusCode.FAILED_PRECONDITION, "refused");
            }
          },
          () -> stuck++);

  /** n1 leads term 4 with its log at 2034; n2 and n3 are the other voters. */
  private static ReplicationWatch.Reading leading(FollowerProgress... followers) {
    return leading(4, followers);
  }

  private static ReplicationWatch.Reading leading(long term, FollowerProgress... followers) {
    return new ReplicationWatch.Reading(
        "n1",
        term,
        2034,
        Set.of("n1", "n2", "n3"),
        Set.of("n1", "n2", "n3"),
        Stream.of(followers).collect(Collectors.toMap(FollowerProgress::id, Function.identity())));
  }

  /** n2 answers heartbeats (it answered 150 ms ago) but holds only up to 948. */
  private static FollowerProgress n2Stuck() {
    return new FollowerProgress("n2", 948, 150);
  }

  private static FollowerProgress n3UpToDate() {
    return new FollowerProgress("n3", 2034, 100);
  }

  private void run(int seconds) {
    for (int i = 0; i < seconds; i++) {
      now += 1000;
      watch.sample();
    }
  }

  @Test
  void aMemberThatAnswersButTakesNothingForTheBoundMovesLeadershipToAnotherVoter() {
    reading = Optional.of(leading(n2Stuck(), n3UpToDate()));
    watch.sample();

    run(BOUND - 1);
    assertThat(transfers).isEmpty();
    run(1);

    assertThat(transfers).containsExactly("n3");
    assertThat(stuck).isEqualTo(1);
  }

  @Test
  void itRepairsOncePerEpisode() {
    reading = Optional.of(leading(n2Stuck(), n3UpToDate()));
    refuse = true; // the transfer fails, so this member still leads and still sees n2 stuck

    run(5 * BOUND);
    assertThat(transfers).containsExactly("n3");
    assertThat(stuck).isEqualTo(1);

    // It takes one entry and sticks again: a new episode.
    reading = Optional.of(leading(new FollowerProgress("n2", 949, 150), n3UpToDate()));
    watch.sample();
    run(BOUND);

    assertThat(transfers).containsExactly("n3", "n3");
    assertThat(stuck).isEqualTo(2);
  }

  @Test
  void aMemberThatKeepsTakingEntriesIsNeverStuck() {
    for (int i = 0; i < 5 * BOUND; i++) {
      reading = Optional.of(leading(new FollowerProgress("n2", 948 + i, 150), n3UpToDate()));
      run(1);
    }

    assertThat(transfers).isEmpty();
  }

  @Test
  void anUpToDateMemberIsNeverStuckWhateverTheTime() {
    reading = Optional.of(leading(new FollowerProgress("n2", 2034, 150), n3UpToDate()));

    run(5 * BOUND);

    assertThat(transfers).isEmpty();
  }

  @Test
  void aSilentMemberIsDownNotStuck() {
    // Last answered 40 s ago: a dead or cut-off member, which a new leader would not help.
    reading = Optional.of(leading(new FollowerProgress("n2", 948, 40_000), n3UpToDate()));

    run(5 * BOUND);

    assertThat(transfers).isEmpty();
  }

  @Test
  void timeSpentSilentDoesNotCountTowardsTheBound() {
    reading = Optional.of(leading(new FollowerProgress("n2", 948, 40_000), n3UpToDate()));
    run(5 * BOUND);
    reading = Optional.of(leading(n2Stuck(), n3UpToDate()));

    run(BOUND - 1);

    assertThat(transfers).isEmpty();
  }

  @Test
  void aServerBeingAddedIsLeftToTheMembershipChange() {
    reading = Optional.of(leading(n2UpToDate(), n3UpToDate(), new FollowerProgress("n4", 0, 150)));

    run(5 * BOUND);

    assertThat(transfers).isEmpty();
  }

  @Test
  void aNewLeadershipStartsAfresh() {
    reading = Optional.of(leading(n2Stuck(), n3UpToDate()));
    run(BOUND - 1);
    reading = Optional.empty(); // stepped down for a moment
    run(1);
    reading = Optional.of(leading(5, n2Stuck(), n3UpToDate()));
    run(BOUND - 1);
    // Lost and won again between two samples: a new term all the same.
    reading = Optional.of(leading(6, n2Stuck(), n3UpToDate()));

    run(BOUND - 1);

    assertThat(transfers).isEmpty();
  }

  @Test
  void withNoOtherLiveVoterItOnlyReports() {
    reading =
        Optional.of(leading(n2Stuck(), new FollowerProgress("n3", 2034, 40_000))); // n3 is down

    run(BOUND + 1);

    assertThat(transfers).isEmpty();
    assertThat(stuck).isEqualTo(1);
  }

  private static FollowerProgress n2UpToDate() {
    return new FollowerProgress("n2", 2034, 150);
  }
}

package dev.roost.chaos.checker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.proto.MemberStatus;
import dev.roost.proto.Role;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConvergenceTest {
  /** Three members whose answers the test sets; reading them advances nothing. */
  private static final class FakeMembers implements Convergence.Members {
    final Map<String, Long> applied = new HashMap<>(Map.of("n1", 10L, "n2", 10L, "n3", 10L));
    final Map<String, String> digests = new HashMap<>(Map.of("n1", "a", "n2", "a", "n3", "a"));

    /** Called on every status read, to let the cluster move while the check polls. */
    Runnable onRead = () -> {};

    @Override
    public List<String> nodes() {
      return List.of("n1", "n2", "n3");
    }

    @Override
    public Optional<MemberStatus> status(String node) {
      onRead.run();
      Long a = applied.get(node);
      return a == null
          ? Optional.empty()
          : Optional.of(
              MemberStatus.newBuilder()
                  .setId(node)
                  .setRole(node.equals("n1") ? Role.LEADER : Role.FOLLOWER)
                  .setAppliedIndex(a)
                  .build());
    }

    @Override
    public Optional<String> digest(String node) {
      return Optional.ofNullable(digests.get(node));
    }
  }

  /** A clock that moves only when the check sleeps. */
  private static final class FakeClock implements Convergence.Clock {
    long now;

    @Override
    public long millis() {
      return now;
    }

    @Override
    public void sleep(long millis) {
      now += millis;
    }
  }

  private final FakeMembers members = new FakeMembers();
  private final FakeClock clock = new FakeClock();

  private CheckResult check() throws InterruptedException {
    return Convergence.check(members, Duration.ofSeconds(60), clock);
  }

  @Test
  void membersAtOneIndexWithOneDigestConverged() throws Exception {
    CheckResult r = check();

    assertThat(r.verdict()).isEqualTo(Verdict.VALID);
    assertThat(r.note()).contains("applied index 10");
    assertThat(clock.now).isZero();
  }

  @Test
  void aMemberThatCatchesUpWithinTheBoundConverges() throws Exception {
    members.applied.put("n3", 4L);
    members.onRead =
        () -> {
          if (clock.now >= 5_000) {
            members.applied.put("n3", 10L);
          }
        };

    CheckResult r = check();

    assertThat(r.verdict()).isEqualTo(Verdict.VALID);
    assertThat(clock.now).isBetween(5_000L, 6_000L);
  }

  @Test
  void aStuckMemberIsNamedWithHowFarBehindAndSinceWhen() throws Exception {
    members.applied.put("n3", 4L);

    CheckResult r = check();

    assertThat(r.verdict()).isEqualTo(Verdict.INVALID);
    assertThat(r.anomalies()).hasSize(1);
    assertThat(r.anomalies().get(0).kind()).isEqualTo("not-converged");
    assertThat(r.anomalies().get(0).message())
        .contains("n3 is at applied index 4, 6 behind")
        .contains("leader: n1")
        .contains("has not moved for 60.0 s");
    assertThat(clock.now).isBetween(60_000L, 61_000L);
  }

  @Test
  void aSilentMemberIsNamed() throws Exception {
    members.applied.remove("n2");

    CheckResult r = check();

    assertThat(r.verdict()).isEqualTo(Verdict.INVALID);
    assertThat(r.anomalies())
        .extracting(Anomaly::message)
        .containsExactly("n2 did not answer its status at the end (leader: n1)");
  }

  @Test
  void membersAtOneIndexWithDifferentStatesDivergedAtOnce() throws Exception {
    members.digests.put("n2", "b");

    CheckResult r = check();

    assertThat(r.verdict()).isEqualTo(Verdict.INVALID);
    assertThat(r.anomalies().get(0).kind()).isEqualTo("diverged");
    assertThat(r.anomalies().get(0).message()).contains("n2=Optional[b]");
    assertThat(clock.now).isZero();
  }

  @Test
  void digestsReadWhileAMemberAppliedAreNotCompared() throws Exception {
    // n3 applies one more entry (and so holds another state) between the status reads around the
    // digests; then all reach index 11 with one state.
    int[] reads = {0};
    members.digests.put("n3", "other");
    members.onRead =
        () -> {
          if (++reads[0] == 4) {
            members.applied.replaceAll((n, a) -> 11L);
            members.digests.replaceAll((n, d) -> "c");
          }
        };

    CheckResult r = check();

    assertThat(r.verdict()).isEqualTo(Verdict.VALID);
    assertThat(r.note()).contains("applied index 11");
  }

  @Test
  void everyMemberAtOneIndexButADigestMissingIsNotConverged() throws Exception {
    members.digests.remove("n3");

    CheckResult r = check();

    assertThat(r.verdict()).isEqualTo(Verdict.INVALID);
    assertThat(r.anomalies().get(0).message()).contains("not every one answered its state digest");
  }
}

package dev.roost.chaos.checker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvLinearizabilityCheckerTest {
  @TempDir Path dir;

  private final KvLinearizabilityChecker checker =
      new KvLinearizabilityChecker(Duration.ofSeconds(20));

  private CheckResult check(Histories h) {
    return checker.check(h.build(dir));
  }

  @Test
  void sequentialWritesAndReadsAreValid() {
    Histories h =
        new Histories()
            .op(0, "read", "k", null, "ok", null, 0, 1)
            .op(0, "write", "k", "\"1\"", "ok", null, 2, 3)
            .op(1, "read", "k", null, "ok", "\"1\"", 4, 5)
            .op(1, "cas", "k", "[\"1\",\"2\"]", "ok", null, 6, 7)
            .op(0, "read", "k", null, "ok", "\"2\"", 8, 9);
    assertThat(check(h).verdict()).isEqualTo(Verdict.VALID);
  }

  @Test
  void staleReadIsCaught() {
    // Write 1, then write 2 completes, then a read that starts afterwards still sees 1: what an
    // isolated old leader serving reads from its local state produces.
    Histories h =
        new Histories()
            .op(0, "write", "k", "\"1\"", "ok", null, 0, 1)
            .op(1, "write", "k", "\"2\"", "ok", null, 2, 3)
            .op(2, "read", "k", null, "ok", "\"1\"", 4, 5);
    CheckResult r = check(h);
    assertThat(r.verdict()).isEqualTo(Verdict.INVALID);
    assertThat(r.anomalies().get(0).kind()).isEqualTo("nonlinearizable");
    assertThat(r.anomalies().get(0).ops().get(0)).contains("read k");
  }

  @Test
  void lostWriteIsCaught() {
    // An acknowledged write that a later read does not see.
    Histories h =
        new Histories()
            .op(0, "write", "k", "\"1\"", "ok", null, 0, 1)
            .op(1, "read", "k", null, "ok", null, 2, 3);
    assertThat(check(h).verdict()).isEqualTo(Verdict.INVALID);
  }

  @Test
  void concurrentOperationsMayTakeEffectInEitherOrder() {
    Histories h =
        new Histories()
            .op(0, "write", "k", "\"1\"", "ok", null, 0, 10)
            .op(1, "read", "k", null, "ok", null, 1, 2)
            .op(2, "read", "k", null, "ok", "\"1\"", 3, 4);
    assertThat(check(h).verdict()).isEqualTo(Verdict.VALID);
  }

  @Test
  void aValueSeenCannotBeUnseen() {
    // The write is still running, but once a read saw 1, a later read cannot see the old value.
    Histories h =
        new Histories()
            .op(0, "write", "k", "\"1\"", "ok", null, 0, 10)
            .op(1, "read", "k", null, "ok", "\"1\"", 1, 2)
            .op(2, "read", "k", null, "ok", null, 3, 4);
    assertThat(check(h).verdict()).isEqualTo(Verdict.INVALID);
  }

  @Test
  void unknownWriteMayHappenLateOrNever() {
    Histories late =
        new Histories()
            .op(0, "write", "k", "\"1\"", "info", null, 0, 1)
            .op(1, "read", "k", null, "ok", null, 2, 3)
            .op(1, "read", "k", null, "ok", "\"1\"", 4, 5);
    assertThat(check(late).verdict()).isEqualTo(Verdict.VALID);
    Histories never =
        new Histories()
            .op(0, "write", "k", "\"1\"", "info", null, 0, -1)
            .op(0 + 1, "read", "k", null, "ok", null, 2, 3);
    assertThat(check(never).verdict()).isEqualTo(Verdict.VALID);
  }

  @Test
  void failedWriteMustNotBeVisible() {
    // fail means surely not applied: a read that sees it is an anomaly.
    Histories h =
        new Histories()
            .op(0, "write", "k", "\"1\"", "fail", null, 0, 1)
            .op(1, "read", "k", null, "ok", "\"1\"", 2, 3);
    assertThat(check(h).verdict()).isEqualTo(Verdict.INVALID);
  }

  @Test
  void casOnlySucceedsOnTheExpectedValue() {
    Histories h =
        new Histories()
            .op(0, "write", "k", "\"1\"", "ok", null, 0, 1)
            .op(1, "cas", "k", "[\"5\",\"2\"]", "ok", null, 2, 3);
    assertThat(check(h).verdict()).isEqualTo(Verdict.INVALID);
  }

  @Test
  void keysAreCheckedIndependently() {
    Histories h =
        new Histories()
            .op(0, "write", "a", "\"1\"", "ok", null, 0, 1)
            .op(1, "read", "b", null, "ok", null, 2, 3)
            .op(2, "read", "a", null, "ok", "\"1\"", 4, 5);
    assertThat(check(h).verdict()).isEqualTo(Verdict.VALID);
  }

  @Test
  void noOkOperationFails() {
    Histories h = new Histories().op(0, "write", "k", "\"1\"", "info", null, 0, 1);
    assertThat(check(h).verdict()).isEqualTo(Verdict.INVALID);
  }

  @Test
  void givingUpIsUnknownNeverValid() {
    // Sixteen concurrent writes and a read of a value none wrote: proving that takes every subset
    // of the writes, far more than a zero time limit allows.
    Histories h = new Histories();
    for (int p = 0; p < 16; p++) {
      h.op(p, "write", "k", "\"" + p + "\"", "ok", null, p, 100);
    }
    h.op(16, "read", "k", null, "ok", "\"none\"", 101, 102);
    CheckResult r = new KvLinearizabilityChecker(Duration.ZERO).check(h.build(dir));
    assertThat(r.verdict()).isEqualTo(Verdict.UNKNOWN);
  }
}

package dev.roost.chaos.checker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SocialCheckerTest {
  @TempDir Path dir;

  private CheckResult check(Histories h) {
    return new SocialChecker().check(h.build(dir));
  }

  private static String post(long id, String author, String text) {
    return "{\"id\":" + id + ",\"author\":\"" + author + "\",\"text\":\"" + text + "\"}";
  }

  /** Two posts by ann, bob follows ann and reads his timeline; final reads agree. */
  private static Histories healthy() {
    return new Histories()
        .op(0, "post", "ann", "\"a1\"", "ok", "10", 0, 1)
        .op(1, "follow", "bob", "\"ann\"", "ok", "true", 0, 1)
        .op(0, "post", "ann", "\"a2\"", "ok", "12", 2, 3)
        .op(
            1,
            "timeline",
            "bob",
            "20",
            "ok",
            "[" + post(12, "ann", "a2") + "," + post(10, "ann", "a1") + "]",
            4,
            5)
        .op(9, "final-following", "bob", null, "ok", "[\"ann\"]", 100, 101);
  }

  private static Histories finalPosts(Histories h, String annPosts) {
    return h.op(9, "final-posts", "ann", null, "ok", annPosts, 102, 103)
        .op(9, "final-posts", "bob", null, "ok", "[]", 104, 105);
  }

  private static String bothPosts() {
    return "[" + post(12, "ann", "a2") + "," + post(10, "ann", "a1") + "]";
  }

  @Test
  void healthyHistoryIsValid() {
    CheckResult r = check(finalPosts(healthy(), bothPosts()));
    assertThat(r.anomalies()).isEmpty();
    assertThat(r.verdict()).isEqualTo(Verdict.VALID);
  }

  @Test
  void lostPostIsCaught() {
    CheckResult r = check(finalPosts(healthy(), "[" + post(12, "ann", "a2") + "]"));
    assertThat(r.verdict()).isEqualTo(Verdict.INVALID);
    assertThat(r.anomalies()).extracting(Anomaly::kind).contains("lost-post");
  }

  @Test
  void duplicatePostIsCaught() {
    CheckResult r =
        check(
            finalPosts(
                healthy(),
                "["
                    + post(13, "ann", "a2")
                    + ","
                    + post(12, "ann", "a2")
                    + ","
                    + post(10, "ann", "a1")
                    + "]"));
    assertThat(r.anomalies()).extracting(Anomaly::kind).contains("duplicate-post");
  }

  @Test
  void phantomPostIsCaught() {
    CheckResult r =
        check(
            finalPosts(
                healthy(), "[" + post(14, "ann", "never-sent") + "," + bothPosts().substring(1)));
    assertThat(r.anomalies()).extracting(Anomaly::kind).contains("phantom-post");
  }

  @Test
  void failedPostThatAppliedIsCaught() {
    Histories h = healthy().op(2, "post", "ann", "\"a3\"", "fail", null, 6, 7);
    CheckResult r =
        check(finalPosts(h, "[" + post(14, "ann", "a3") + "," + bothPosts().substring(1)));
    assertThat(r.anomalies()).extracting(Anomaly::kind).contains("failed-post-applied");
  }

  @Test
  void unknownPostMayBeThereOrNot() {
    Histories there = healthy().op(2, "post", "ann", "\"a3\"", "info", null, 6, 7);
    assertThat(
            check(finalPosts(there, "[" + post(14, "ann", "a3") + "," + bothPosts().substring(1)))
                .verdict())
        .isEqualTo(Verdict.VALID);
    Histories absent = healthy().op(2, "post", "ann", "\"a3\"", "info", null, 6, 7);
    assertThat(check(finalPosts(absent, bothPosts())).verdict()).isEqualTo(Verdict.VALID);
  }

  @Test
  void outOfOrderTimelineIsCaught() {
    Histories h =
        healthy()
            .op(
                1,
                "timeline",
                "bob",
                "20",
                "ok",
                "[" + post(10, "ann", "a1") + "," + post(12, "ann", "a2") + "]",
                6,
                7);
    CheckResult r = check(finalPosts(h, bothPosts()));
    assertThat(r.anomalies()).extracting(Anomaly::kind).contains("timeline-order");
  }

  @Test
  void timelineGoingBackInTimeIsCaught() {
    // A later read of bob's timeline no longer shows a2, which an earlier completed read showed.
    Histories h =
        healthy().op(2, "timeline", "bob", "20", "ok", "[" + post(10, "ann", "a1") + "]", 6, 7);
    CheckResult r = check(finalPosts(h, bothPosts()));
    assertThat(r.verdict()).isEqualTo(Verdict.INVALID);
    assertThat(r.anomalies()).extracting(Anomaly::kind).contains("timeline-went-back");
  }

  @Test
  void staleTimelineMissingAnAcknowledgedPostIsCaught() {
    // ann's own timeline read after a2 was acknowledged shows only a1.
    Histories h =
        healthy().op(3, "timeline", "ann", "20", "ok", "[" + post(10, "ann", "a1") + "]", 6, 7);
    CheckResult r = check(finalPosts(h, bothPosts()));
    assertThat(r.anomalies()).extracting(Anomaly::kind).contains("stale-timeline");
  }

  @Test
  void aFullPageOnlyCoversItsIdRange() {
    // A page of size 1 showing only the newest post says nothing about older ones.
    Histories h =
        healthy().op(3, "timeline", "ann", "1", "ok", "[" + post(12, "ann", "a2") + "]", 6, 7);
    assertThat(check(finalPosts(h, bothPosts())).verdict()).isEqualTo(Verdict.VALID);
  }

  @Test
  void lostFollowIsCaught() {
    Histories h =
        new Histories()
            .op(0, "post", "ann", "\"a1\"", "ok", "10", 0, 1)
            .op(1, "follow", "bob", "\"ann\"", "ok", "true", 0, 1)
            .op(9, "final-following", "bob", null, "ok", "[]", 100, 101);
    CheckResult r = check(finalPosts(h, "[" + post(10, "ann", "a1") + "]"));
    assertThat(r.anomalies()).extracting(Anomaly::kind).contains("lost-follow");
  }

  @Test
  void missingFinalReadIsUnknown() {
    assertThat(check(healthy()).verdict()).isEqualTo(Verdict.UNKNOWN);
  }

  @Test
  void noOkOperationFails() {
    Histories h = new Histories().op(0, "post", "ann", "\"a1\"", "info", null, 0, 1);
    assertThat(check(h).verdict()).isEqualTo(Verdict.INVALID);
  }
}

package dev.roost.chaos.checker;

import dev.roost.proto.MemberStatus;
import dev.roost.proto.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Whether a healed cluster came back whole: once the faults are healed and the writes have stopped,
 * every member must, within a bound, answer, have applied the same index and hold the same state
 * digest. A run whose linearizability holds but that leaves one member stuck is INVALID here: two
 * members carrying on hide it, and the next fault would be an outage.
 */
public final class Convergence {
  /** The name in reports. */
  public static final String NAME = "convergence";

  /** What the check reads from the cluster; each read answers empty when the member does not. */
  public interface Members {
    /** Every member's id. */
    List<String> nodes();

    /** The member's own view of itself. */
    Optional<MemberStatus> status(String node);

    /** The member's state digest, read from its own state. */
    Optional<String> digest(String node);
  }

  /** Time, so that tests can run the check without waiting. */
  public interface Clock {
    long millis();

    void sleep(long millis) throws InterruptedException;
  }

  /** The wall clock. */
  public static final Clock SYSTEM =
      new Clock() {
        @Override
        public long millis() {
          return System.nanoTime() / 1_000_000;
        }

        @Override
        public void sleep(long millis) throws InterruptedException {
          Thread.sleep(millis);
        }
      };

  private static final long POLL_MS = 250;

  private final Members members;
  private final Clock clock;
  // Per member: the applied index last seen and since when it has not moved.
  private final Map<String, Long> lastApplied = new HashMap<>();
  private final Map<String, Long> stillSince = new HashMap<>();

  private Convergence(Members members, Clock clock) {
    this.members = members;
    this.clock = clock;
  }

  /**
   * Polls the members until they converge or {@code bound} passes. Call it when no write runs.
   *
   * @return VALID with the common applied index; INVALID with a {@code diverged} anomaly as soon as
   *     members at one applied index hold different digests, or a {@code not-converged} anomaly per
   *     member that is behind or silent when the bound passes
   */
  public static CheckResult check(Members members, Duration bound, Clock clock)
      throws InterruptedException {
    return new Convergence(members, clock).run(bound);
  }

  private CheckResult run(Duration bound) throws InterruptedException {
    long start = clock.millis();
    long deadline = start + bound.toMillis();
    Map<String, Optional<MemberStatus>> statuses = read();
    while (true) {
      Optional<Long> applied = common(statuses);
      if (applied.isPresent()) {
        Map<String, Optional<String>> digests = new TreeMap<>();
        members.nodes().forEach(n -> digests.put(n, members.digest(n)));
        Map<String, Optional<MemberStatus>> after = read();
        // Digests are comparable only if no member applied anything while they were read.
        if (applied.equals(common(after))
            && digests.values().stream().allMatch(Optional::isPresent)) {
          if (digests.values().stream().distinct().count() == 1) {
            return new CheckResult(
                NAME,
                Verdict.VALID,
                List.of(),
                String.format(
                    "%d members at applied index %d with one state digest, %.1f s after the check"
                        + " began",
                    digests.size(), applied.get(), (clock.millis() - start) / 1e3));
          }
          return new CheckResult(
              NAME,
              Verdict.INVALID,
              List.of(
                  new Anomaly(
                      "diverged",
                      "members at applied index "
                          + applied.get()
                          + " hold different states: "
                          + digests,
                      List.of())),
              "the members applied the same entries and hold different states");
        }
        statuses = after;
      }
      if (clock.millis() >= deadline) {
        return notConverged(statuses, bound);
      }
      clock.sleep(POLL_MS);
      statuses = read();
    }
  }

  /** Every member's status, noting when each one's applied index last moved. */
  private Map<String, Optional<MemberStatus>> read() {
    Map<String, Optional<MemberStatus>> statuses = new LinkedHashMap<>();
    long now = clock.millis();
    for (String n : members.nodes()) {
      Optional<MemberStatus> s = members.status(n);
      statuses.put(n, s);
      if (s.isPresent()) {
        Long before = lastApplied.put(n, s.get().getAppliedIndex());
        if (before == null || before != s.get().getAppliedIndex()) {
          stillSince.put(n, now);
        }
      }
    }
    return statuses;
  }

  /** The applied index when every member answered and all have applied the same. */
  private static Optional<Long> common(Map<String, Optional<MemberStatus>> statuses) {
    if (statuses.values().stream().anyMatch(Optional::isEmpty)) {
      return Optional.empty();
    }
    List<Long> applied =
        statuses.values().stream().map(s -> s.get().getAppliedIndex()).distinct().toList();
    return applied.size() == 1 ? Optional.of(applied.get(0)) : Optional.empty();
  }

  private CheckResult notConverged(Map<String, Optional<MemberStatus>> statuses, Duration bound) {
    long ahead =
        statuses.values().stream()
            .flatMap(Optional::stream)
            .mapToLong(MemberStatus::getAppliedIndex)
            .max()
            .orElse(-1);
    String leader =
        statuses.values().stream()
            .flatMap(Optional::stream)
            .filter(s -> s.getRole() == Role.LEADER)
            .map(MemberStatus::getId)
            .findFirst()
            .orElse("none");
    List<Anomaly> anomalies = new ArrayList<>();
    long now = clock.millis();
    statuses.forEach(
        (node, status) -> {
          if (status.isEmpty()) {
            anomalies.add(
                new Anomaly(
                    "not-converged",
                    node + " did not answer its status at the end (leader: " + leader + ")",
                    List.of()));
          } else if (status.get().getAppliedIndex() < ahead) {
            MemberStatus s = status.get();
            anomalies.add(
                new Anomaly(
                    "not-converged",
                    String.format(
                        "%s is at applied index %d, %d behind the furthest member (leader: %s);"
                            + " its applied index has not moved for %.1f s; role %s, term %d,"
                            + " last contact with a leader %d ms ago, ready %s",
                        node,
                        s.getAppliedIndex(),
                        ahead - s.getAppliedIndex(),
                        leader,
                        (now - stillSince.get(node)) / 1e3,
                        s.getRole(),
                        s.getTerm(),
                        s.getLastContactMs(),
                        s.getReady()),
                    List.of()));
          }
        });
    if (anomalies.isEmpty()) {
      anomalies.add(
          new Anomaly(
              "not-converged",
              "every member is at applied index "
                  + ahead
                  + " but not every one answered its"
                  + " state digest",
              List.of()));
    }
    return new CheckResult(
        NAME,
        Verdict.INVALID,
        anomalies,
        "the members did not converge within " + bound.toSeconds() + " s");
  }
}

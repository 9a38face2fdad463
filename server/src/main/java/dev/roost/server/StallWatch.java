package dev.roost.server;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices a follower that is stuck: it knows a leader, the leader's commit index is ahead of what
 * it applied, and its applied index has not moved for {@link #BOUND}. The known case is a follower
 * whose appends all fail after one failed (docs/known-issues.md); a follower whose leader's
 * appender died hears no leader at all, and is not this. Ratis cannot be told to repair such a
 * member in place, so this member says so: one ERROR line, {@code /health} fails (a supervisor,
 * such as Kubernetes' liveness probe, then restarts it, and a restart is the repair), and the
 * {@code roost_raft_stalled} gauge reads 1.
 */
final class StallWatch implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StallWatch.class);

  /**
   * How long a member may apply nothing while behind its leader. A healthy member behind its leader
   * applies something every few milliseconds, except while it installs a snapshot: a 96 MB state
   * loads in about 4 s here, and the largest state the default quotas allow is ten times that, so
   * this leaves the slowest install that can be foreseen twice its time. A stuck member is then out
   * of service for two minutes plus the supervisor's probe period, not until an operator notices.
   */
  static final Duration BOUND = Duration.ofSeconds(120);

  private final Supplier<Optional<RaftReading>> member;
  private final LongSupplier nowMs;
  private long applied = Long.MIN_VALUE;
  private long stillSinceMs;
  private volatile String stalled;
  private ScheduledExecutorService poller;

  /**
   * @param member reads this member's Raft state; empty before Ratis runs
   * @param nowMs a monotonic clock in milliseconds
   */
  StallWatch(Supplier<Optional<RaftReading>> member, LongSupplier nowMs) {
    this.member = member;
    this.nowMs = nowMs;
  }

  /** Why this member is stuck, or empty when it is not. */
  Optional<String> stalled() {
    return Optional.ofNullable(stalled);
  }

  /** Reads the member once a second from now on. */
  synchronized void start() {
    poller = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("roost-stall-watch"));
    poller.scheduleWithFixedDelay(this::sample, 1, 1, TimeUnit.SECONDS);
  }

  /** Reads the member and updates the verdict; the poller calls it, and tests. */
  synchronized void sample() {
    long now = nowMs.getAsLong();
    Optional<RaftReading> reading = member.get();
    boolean behind =
        reading.isPresent()
            && reading.get().alive()
            && reading.get().leader() != null
            && !reading.get().leader().equals(reading.get().id())
            && reading.get().leaderCommitIndex() > reading.get().appliedIndex();
    if (!behind || reading.get().appliedIndex() != applied) {
      applied = reading.map(RaftReading::appliedIndex).orElse(Long.MIN_VALUE);
      stillSinceMs = now;
      if (stalled != null) {
        LOG.info("{}: no longer stuck: applied index {}", id(reading), applied);
        stalled = null;
      }
      return;
    }
    if (stalled == null && now - stillSinceMs >= BOUND.toMillis()) {
      RaftReading r = reading.get();
      stalled =
          String.format(
              "stuck: applied index %d has not moved for %d s while leader %s has committed %d"
                  + " (term %d); restart this member",
              r.appliedIndex(),
              (now - stillSinceMs) / 1000,
              r.leader(),
              r.leaderCommitIndex(),
              r.term());
      LOG.error("{}: {}", r.id(), stalled);
    }
  }

  private static String id(Optional<RaftReading> reading) {
    return reading.map(RaftReading::id).orElse("this member");
  }

  @Override
  public synchronized void close() {
    if (poller != null) {
      poller.shutdownNow();
    }
  }
}

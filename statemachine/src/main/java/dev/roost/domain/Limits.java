package dev.roost.domain;

import java.time.Duration;

/**
 * Limits enforced by the state machine. They take part in apply, so every member of a group must
 * run with the same values; change them only with a restart of the whole group.
 *
 * @param maxPostCodePoints the longest post, in Unicode code points
 * @param maxSessions how many client sessions are kept open at once (the least recently active
 *     expires first when one more is opened)
 * @param dedupWindow how many replies are kept per session before the client has seen them; it must
 *     exceed the number of writes a client has in flight at once, counting every write of a batch
 * @param sessionTimeoutMs how long a session may see no write, in log time, before it expires
 * @param quotas how much the state may hold
 */
public record Limits(
    int maxPostCodePoints, int maxSessions, int dedupWindow, long sessionTimeoutMs, Quotas quotas) {
  /**
   * How long an idle session lives unless configured otherwise. A retry comes within the client's
   * deadline (10 s by default, minutes at most), so a session expiring under a live client's retry
   * needs a client stalled far longer than any deadline; an abandoned session (every CLI command
   * opens one) holds its memory this long.
   */
  public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofMinutes(10);

  /** 280 code points per post, 4096 sessions, 128 replies per session, a 10-minute timeout. */
  public static final Limits DEFAULT =
      new Limits(280, 4096, 128, DEFAULT_SESSION_TIMEOUT.toMillis(), Quotas.DEFAULT);

  /** Checks that every limit is positive. */
  public Limits {
    if (maxPostCodePoints < 1 || maxSessions < 1 || dedupWindow < 1 || sessionTimeoutMs < 1) {
      throw new IllegalArgumentException("limits must be positive");
    }
    if (quotas == null) {
      throw new IllegalArgumentException("quotas are required");
    }
  }

  /** These limits with another maximum post length. */
  public Limits withMaxPostCodePoints(int codePoints) {
    return new Limits(codePoints, maxSessions, dedupWindow, sessionTimeoutMs, quotas);
  }

  /** These limits with other quotas. */
  public Limits withQuotas(Quotas other) {
    return new Limits(maxPostCodePoints, maxSessions, dedupWindow, sessionTimeoutMs, other);
  }

  /** These limits with other session bounds. */
  public Limits withSessions(int max, int window, long timeoutMs) {
    return new Limits(maxPostCodePoints, max, window, timeoutMs, quotas);
  }
}

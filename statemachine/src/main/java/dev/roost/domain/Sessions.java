package dev.roost.domain;

import dev.roost.domain.Payload.SessionOpened;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Client sessions (Raft dissertation, 6.3): what makes a retried write take effect once however
 * late the retry comes, beyond Ratis' retry cache (in memory, 60 s, keyed by the Raft client). A
 * client opens a session through the log and numbers its writes in it; each session keeps the
 * replies to its writes until the client says it has seen them, and answers a repeat from there.
 *
 * <p>A session the state no longer holds never lets a write apply: its writes get {@link
 * Code#SESSION_EXPIRED}, whose outcome the client reports as unknown. That is what closes the hole
 * of remembering only the most recent clients: forgetting a session costs its client an error,
 * never a second apply.
 *
 * <p>Bounded deterministically, by log time and log order only: a session expires when it has seen
 * no write for {@link Limits#sessionTimeoutMs()} of the leaders' stamped time; opening one more
 * than {@link Limits#maxSessions()} expires the least recently active; a session keeps at most
 * {@link Limits#dedupWindow()} replies (an older repeat is refused as {@link Code#ABORTED}).
 * Sessions are kept in order of their last write, so the least recently active is always first.
 */
final class Sessions {
  private final Supplier<Limits> limits;
  private final StateHash hash;
  private final LinkedHashMap<Long, Session> open = new LinkedHashMap<>();

  /**
   * Sessions bounded by the state's current {@code limits}, that add what they hold to, and remove
   * what they forget from, {@code hash}.
   */
  Sessions(Supplier<Limits> limits, StateHash hash) {
    this.limits = limits;
    this.hash = hash;
  }

  /** One session: when it last wrote, and the replies its client has not seen yet. */
  static final class Session {
    final long id;
    long lastActiveMs;
    // Repeats of sequences below this with no reply kept are refused: their outcome is unknown.
    long forgottenBelow = 1;
    final TreeMap<Long, Result> results = new TreeMap<>();

    Session(long id, long lastActiveMs) {
      this.id = id;
      this.lastActiveMs = lastActiveMs;
    }
  }

  /**
   * Opens session {@code id} at log time {@code nowMs}.
   *
   * @param id the leader's random id; an id already open is refused, since two clients sharing a
   *     session would answer each other's writes
   */
  Result open(long id, long nowMs) {
    expire(nowMs);
    if (id < 1 || open.containsKey(id)) {
      return Result.error(
          Code.INVALID_ARGUMENT, "a new session needs an unused positive id; " + id + " is not");
    }
    Session s = new Session(id, nowMs);
    open.put(id, s);
    hash.session(1, s);
    Iterator<Session> eldest = open.values().iterator();
    while (open.size() > limits.get().maxSessions()) {
      Session evicted = eldest.next();
      eldest.remove();
      hash(-1, evicted);
    }
    return Result.ok(new SessionOpened(id, limits.get().sessionTimeoutMs()));
  }

  /**
   * The reply kept for {@code id}; a SESSION_EXPIRED result if its session is not open at log time
   * {@code nowMs}; an ABORTED result if the reply is no longer kept; null if the write is new and
   * should be applied, then {@link #record}ed.
   */
  Result lookup(RequestId id, long nowMs) {
    expire(nowMs);
    Session s = open.get(id.session());
    if (s == null) {
      return Result.error(
          Code.SESSION_EXPIRED,
          "session "
              + id.session()
              + " has expired or was never opened; request "
              + id.sequence()
              + " was not applied now, but its outcome is unknown");
    }
    Result r = s.results.get(id.sequence());
    if (r == null && id.sequence() < s.forgottenBelow) {
      return Result.error(
          Code.ABORTED,
          "request "
              + id.sequence()
              + " of session "
              + id.session()
              + " is older than the replies the session keeps; its outcome is unknown");
    }
    return r;
  }

  /**
   * Keeps the reply to a write that {@link #lookup} found new, applied at log time {@code nowMs}.
   */
  void record(RequestId id, Result result, long nowMs) {
    Session s = open.remove(id.session());
    open.put(id.session(), s);
    hash.session(-1, s);
    s.lastActiveMs = nowMs;
    s.forgottenBelow = Math.max(s.forgottenBelow, id.firstUnanswered());
    s.results.put(id.sequence(), result);
    hash.result(1, s.id, id.sequence(), result);
    // The client has seen the replies below its first unanswered sequence (never this one's).
    while (s.results.firstKey() < s.forgottenBelow) {
      Map.Entry<Long, Result> seen = s.results.pollFirstEntry();
      hash.result(-1, s.id, seen.getKey(), seen.getValue());
    }
    while (s.results.size() > limits.get().dedupWindow()) {
      Map.Entry<Long, Result> oldest = s.results.pollFirstEntry();
      hash.result(-1, s.id, oldest.getKey(), oldest.getValue());
      s.forgottenBelow = Math.max(s.forgottenBelow, oldest.getKey() + 1);
    }
    hash.session(1, s);
  }

  /** Expires, least recently active first, the sessions idle for longer than the timeout. */
  private void expire(long nowMs) {
    Iterator<Session> eldest = open.values().iterator();
    while (eldest.hasNext()) {
      Session s = eldest.next();
      if (nowMs - s.lastActiveMs <= limits.get().sessionTimeoutMs()) {
        return;
      }
      eldest.remove();
      hash(-1, s);
    }
  }

  /** Adds everything kept to the hash, once the sessions have been restored from a snapshot. */
  void rehash() {
    open.values().forEach(s -> hash(1, s));
  }

  private void hash(int sign, Session s) {
    hash.session(sign, s);
    s.results.forEach((sequence, result) -> hash.result(sign, s.id, sequence, result));
  }

  /** How many sessions are open. */
  int count() {
    return open.size();
  }

  /** The open sessions, least recently active first, for snapshots. */
  Iterable<Session> all() {
    return open.values();
  }

  /**
   * Restores a session read from a snapshot; the caller restores them least recently active first.
   *
   * @throws IllegalArgumentException if the session is already open or has a bad id
   */
  void restore(Session s) {
    if (s.id < 1 || open.putIfAbsent(s.id, s) != null) {
      throw new IllegalArgumentException("session " + s.id + " appears twice or has a bad id");
    }
  }
}

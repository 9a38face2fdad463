package dev.roost.client;

import dev.roost.proto.RequestId;
import dev.roost.proto.Session;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A client's session with the cluster (see {@code RequestId} in roost.proto): opened through the
 * log before the first write, numbers the writes and tells the servers which replies the client has
 * seen, so that they keep only the replies a retry may still ask for.
 *
 * <p>A new session is opened when the current one may be about to expire: when it has sent nothing
 * for half its timeout (the cluster expires it by the leaders' clocks, which may run ahead of this
 * one), or when a write in it was answered {@code SESSION_EXPIRED}.
 */
final class ClientSession {
  /** One opened session and what its writes have used. */
  static final class Opened {
    final long id;
    private final long renewAfterNanos;
    private final AtomicLong sequence = new AtomicLong();
    private final ConcurrentSkipListSet<Long> unanswered = new ConcurrentSkipListSet<>();
    private volatile long lastSentNanos;

    private Opened(Session session, long nowNanos) {
      this.id = session.getId();
      this.renewAfterNanos = TimeUnit.MILLISECONDS.toNanos(session.getTimeoutMs()) / 2;
      this.lastSentNanos = nowNanos;
    }
  }

  private final Supplier<CompletableFuture<Session>> open;
  private final LongSupplier nanoClock;
  private CompletableFuture<Opened> current;

  /**
   * @param open sends an OpenSession; completes with the session or a {@link RoostException}
   * @param nanoClock a monotonic clock
   */
  ClientSession(Supplier<CompletableFuture<Session>> open, LongSupplier nanoClock) {
    this.open = open;
    this.nanoClock = nanoClock;
  }

  /** The session to number the next write in: the current one, or one being opened. */
  synchronized CompletableFuture<Opened> session() {
    if (current == null || current.isCompletedExceptionally() || stale(current)) {
      current = open.get().thenApply(s -> new Opened(s, nanoClock.getAsLong()));
    }
    return current;
  }

  private boolean stale(CompletableFuture<Opened> session) {
    Opened s = openedNow(session);
    return s != null && nanoClock.getAsLong() - s.lastSentNanos > s.renewAfterNanos;
  }

  /**
   * Numbers a write in {@code s}; every retry of it carries the same request id. {@link #answered}
   * must follow once the write's call has ended, however it ended.
   */
  RequestId number(Opened s) {
    long sequence;
    long firstUnanswered;
    // One step: a write numbered but not yet counted unanswered would let a later write claim a
    // first unanswered sequence above it, and the servers would forget its place before it
    // arrived (ABORTED, outcome unknown).
    synchronized (s) {
      sequence = s.sequence.incrementAndGet();
      s.unanswered.add(sequence);
      firstUnanswered = s.unanswered.first();
    }
    s.lastSentNanos = nanoClock.getAsLong();
    return RequestId.newBuilder()
        .setSession(s.id)
        .setSequence(sequence)
        .setFirstUnanswered(firstUnanswered)
        .build();
  }

  /** The call of write {@code sequence} has ended: the client will not send it again. */
  void answered(Opened s, long sequence) {
    s.unanswered.remove(sequence);
  }

  /** The cluster no longer holds {@code s}: the next write opens a new session. */
  synchronized void expired(Opened s) {
    if (openedNow(current) == s) {
      current = null;
    }
  }

  /** The current session's id; 0 before one is open. */
  synchronized long id() {
    Opened s = openedNow(current);
    return s == null ? 0 : s.id;
  }

  /** The session {@code f} opened, or null if there is none or it is still opening or failed. */
  private static Opened openedNow(CompletableFuture<Opened> f) {
    return f == null || !f.isDone() || f.isCompletedExceptionally() ? null : f.join();
  }
}

package dev.roost.api;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Group commit without a timer: how Roost lets concurrent calls share one request. The client uses
 * it for the calls of one client (one request, and one log entry or read index, for many calls);
 * the leader's write gateway for the writes of many clients (one log entry for many). Sending,
 * replicating, syncing and answering a request costs about the same for one small call as for
 * thirty, so under load this is what lets throughput grow with the number of callers.
 *
 * <p>A call submitted while fewer than {@code maxInFlight} requests are outstanding goes out at
 * once, alone. Calls submitted while all are outstanding wait, and go out together as soon as one
 * request is finished: in the order they were submitted, up to {@code maxWeight} units and {@code
 * maxBytes} bytes per request (a call over either limit still goes, alone). So an idle sender pays
 * nothing, and a busy one sends fewer, larger requests.
 *
 * <p>Thread-safe. The owner's {@link Requests} callbacks run without this class's lock held, except
 * {@link Requests#weight}, {@link Requests#bytes} and {@link Requests#leaveOut}, which must
 * therefore be quick and must not call back into this class. {@link Requests#send} runs on the
 * submitting thread or on the thread that finished the previous request; a request that finishes at
 * once is followed by the next one in a loop, not by recursion.
 *
 * @param <C> one call, as the owner queues it
 */
public final class GroupCommit<C> {

  /** What the owner decides about its calls and requests. */
  public interface Requests<C> {
    /** How many of a request's units {@code call} takes: 1 for one call, more for a batch. */
    int weight(C call);

    /** The bytes {@code call} adds to a request, framing included. */
    int bytes(C call);

    /**
     * Whether to leave {@code call} out, unsent, as it is taken off the queue (e.g. its caller has
     * gone, or its deadline passed while it waited). Runs under the lock: it must not complete the
     * call; {@link #leftOut} follows, outside the lock.
     */
    boolean leaveOut(C call);

    /** Told of each call {@link #leaveOut} left out, without the lock held. */
    void leftOut(C call);

    /**
     * Sends one request carrying {@code calls} (one or more, in order).
     *
     * @return a future that completes, normally or not, once the calls are answered: the next
     *     request goes out then
     */
    CompletableFuture<?> send(List<C> calls);
  }

  /** Why {@link #submit} did not take a call. */
  public enum Refusal {
    /** {@code maxQueued} calls, or {@code maxQueuedBytes} bytes of calls, already wait. */
    FULL,
    /** {@link #close()} was called. */
    CLOSED
  }

  private final int maxInFlight;
  private final int maxWeight;
  private final int maxBytes;
  private final int maxQueued;
  private final long maxQueuedBytes;
  private final Requests<C> requests;
  private final ArrayDeque<C> queue = new ArrayDeque<>();
  private List<C> leftOut = List.of();
  private long queuedBytes;
  private int inFlight;
  private boolean closed;

  /**
   * @param maxInFlight requests outstanding at once
   * @param maxWeight units of {@link Requests#weight} in one request
   * @param maxBytes bytes of {@link Requests#bytes} in one request
   * @param maxQueued calls waiting before new ones are refused
   * @param maxQueuedBytes bytes of {@link Requests#bytes} waiting before new calls are refused; a
   *     call is always taken into an empty queue, so one over this bound is not refused forever
   */
  public GroupCommit(
      int maxInFlight,
      int maxWeight,
      int maxBytes,
      int maxQueued,
      long maxQueuedBytes,
      Requests<C> requests) {
    if (maxInFlight < 1 || maxWeight < 1 || maxBytes < 1 || maxQueued < 0 || maxQueuedBytes < 0) {
      throw new IllegalArgumentException(
          "need maxInFlight, maxWeight and maxBytes >= 1 and maxQueued, maxQueuedBytes >= 0");
    }
    this.maxInFlight = maxInFlight;
    this.maxWeight = maxWeight;
    this.maxBytes = maxBytes;
    this.maxQueued = maxQueued;
    this.maxQueuedBytes = maxQueuedBytes;
    this.requests = requests;
  }

  /**
   * Queues {@code call} for the next request, sending it at once if a request slot is free.
   *
   * @return null if the call was taken; else why not, and nothing of it was sent
   */
  public Refusal submit(C call) {
    List<C> batch = null;
    List<C> dropped;
    synchronized (this) {
      if (closed) {
        return Refusal.CLOSED;
      }
      int bytes = requests.bytes(call);
      if (queue.size() >= maxQueued || (!queue.isEmpty() && queuedBytes + bytes > maxQueuedBytes)) {
        return Refusal.FULL;
      }
      queue.add(call);
      queuedBytes += bytes;
      if (inFlight < maxInFlight) {
        inFlight++;
        batch = nextBatch();
      }
      dropped = takeLeftOut();
    }
    dropped.forEach(requests::leftOut);
    if (batch != null) {
      sendFrom(batch);
    }
    return null;
  }

  /**
   * Stops taking calls and sending requests; requests already out finish as the owner finishes
   * them.
   *
   * @return the calls that were still waiting, unsent, for the owner to fail
   */
  public List<C> close() {
    synchronized (this) {
      closed = true;
      List<C> waiting = new ArrayList<>(queue);
      queue.clear();
      queuedBytes = 0;
      return waiting;
    }
  }

  /** Calls waiting for a request. */
  public synchronized int queued() {
    return queue.size();
  }

  /** Sends {@code batch}, then each next batch as the one before it finishes. */
  private void sendFrom(List<C> batch) {
    while (!batch.isEmpty()) {
      CompletableFuture<?> sent;
      try {
        sent = requests.send(batch);
      } catch (RuntimeException e) {
        // The slot must come back whatever the owner did wrong, or every later call would wait.
        sent = CompletableFuture.failedFuture(e);
      }
      if (!sent.isDone()) {
        sent.whenComplete((r, e) -> sendFrom(afterRequest()));
        return;
      }
      batch = afterRequest();
    }
  }

  /** Takes the next batch once a request finished: possibly none, which frees the slot. */
  private List<C> afterRequest() {
    List<C> batch;
    List<C> dropped;
    synchronized (this) {
      if (closed) {
        return List.of();
      }
      batch = nextBatch();
      dropped = takeLeftOut();
    }
    dropped.forEach(requests::leftOut);
    return batch;
  }

  /** Takes the next batch off the queue; an empty one gives its slot back. Holds the lock. */
  private List<C> nextBatch() {
    List<C> batch = new ArrayList<>();
    int weight = 0;
    long bytes = 0;
    while (!queue.isEmpty()) {
      C next = queue.peek();
      int nextWeight = requests.weight(next);
      int nextBytes = requests.bytes(next);
      if (!batch.isEmpty() && (weight + nextWeight > maxWeight || bytes + nextBytes > maxBytes)) {
        break;
      }
      queue.poll();
      queuedBytes -= nextBytes;
      if (requests.leaveOut(next)) {
        if (leftOut.isEmpty()) {
          leftOut = new ArrayList<>();
        }
        leftOut.add(next);
        continue;
      }
      batch.add(next);
      weight += nextWeight;
      bytes += nextBytes;
    }
    if (batch.isEmpty()) {
      inFlight--;
    }
    return batch;
  }

  /** The calls left out since the last call of this; holds the lock. */
  private List<C> takeLeftOut() {
    List<C> taken = leftOut;
    leftOut = List.of();
    return taken;
  }
}

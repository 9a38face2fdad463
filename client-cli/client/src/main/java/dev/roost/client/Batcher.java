package dev.roost.client;

import dev.roost.client.ClientRetry.Kind;
import dev.roost.proto.Reply;
import dev.roost.proto.StatusCode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Coalesces the concurrent calls of one kind (writes, or reads at one consistency) of one client
 * into batches: one Ratis request, and for writes one Raft log entry, for many calls. Sending,
 * replicating, syncing and answering an entry costs about the same for one small write as for
 * thirty, so under load this is what lets throughput grow with the number of callers.
 *
 * <p>There is no timer and no added delay: a call made while fewer than {@code maxInFlight} batches
 * are outstanding goes out at once, alone. Calls made while all are outstanding wait, and go out
 * together (up to {@code maxOps} calls and {@link RoostClient#MAX_REQUEST_BYTES} bytes) as soon as
 * one batch is answered. So an idle client pays nothing, and a busy one sends fewer, larger
 * requests. Calls go out in the order they were made.
 *
 * <p>Each call keeps its own reply and error: the servers apply the writes of a batch one by one,
 * each with its own request id (so exactly-once holds per write), and answer each on its own. A
 * batch that gets no answer fails every call in it the same way (for writes, with outcome unknown).
 * A batch ends by the earliest deadline of its calls; a call whose deadline passes while it waits
 * is failed with {@code DEADLINE_EXCEEDED}, not sent.
 *
 * @param <E> a single command or query, as sent on its own
 */
final class Batcher<E extends com.google.protobuf.Message> {

  /** Sends one request: one call's message alone, or an envelope of several. */
  interface Send {
    CompletableFuture<Answer> send(String op, Message message, long deadlineAtNanos);
  }

  private record Pending<E>(
      String op, E message, long deadlineAtNanos, CompletableFuture<Reply> result) {}

  private final Kind kind;
  private final int maxInFlight;
  private final int maxOps;
  private final int maxQueued;
  private final Function<List<E>, com.google.protobuf.Message> envelope;
  private final Send send;
  private final Function<Answer, Reply> decode;
  private final ClientRetry clock;
  private final ArrayDeque<Pending<E>> queue = new ArrayDeque<>();
  private int inFlight;
  private boolean closed;

  /**
   * @param maxInFlight batches outstanding at once
   * @param maxOps calls in one batch
   * @param maxQueued calls waiting before new ones fail with {@code RESOURCE_EXHAUSTED}
   * @param envelope wraps several messages into one batch message
   * @param send sends a request under the client's retry policy
   * @param decode decodes Roost's reply out of an answer (throws a {@link RoostException} if it
   *     cannot)
   * @param clock the retry policy, for its clock
   */
  Batcher(
      Kind kind,
      int maxInFlight,
      int maxOps,
      int maxQueued,
      Function<List<E>, com.google.protobuf.Message> envelope,
      Send send,
      Function<Answer, Reply> decode,
      ClientRetry clock) {
    this.kind = kind;
    this.maxInFlight = maxInFlight;
    this.maxOps = maxOps;
    this.maxQueued = maxQueued;
    this.envelope = envelope;
    this.send = send;
    this.decode = decode;
    this.clock = clock;
  }

  /**
   * Sends {@code message} alone or with others; the future completes with its own reply (of any
   * status code), or exceptionally with a {@link RoostException} if the request got no answer.
   */
  CompletableFuture<Reply> submit(String op, E message) {
    Pending<E> call =
        new Pending<>(op, message, clock.deadlineFromNow(), new CompletableFuture<>());
    List<Pending<E>> batch = null;
    RoostException refused = null;
    synchronized (this) {
      if (closed) {
        refused = notSent(op, "the client is closed");
      } else if (queue.size() >= maxQueued) {
        refused =
            new RoostException(
                StatusCode.RESOURCE_EXHAUSTED,
                "too many calls waiting in this client ("
                    + maxQueued
                    + "); "
                    + op
                    + " was not sent",
                false);
      } else {
        queue.add(call);
        if (inFlight < maxInFlight) {
          inFlight++;
          batch = nextBatch();
        }
      }
    }
    if (refused != null) {
      call.result.completeExceptionally(refused);
    } else if (batch != null) {
      dispatch(batch);
    }
    return call.result;
  }

  /** Fails the calls still waiting; calls already sent end as the retry policy ends them. */
  void close() {
    List<Pending<E>> waiting;
    synchronized (this) {
      closed = true;
      waiting = new ArrayList<>(queue);
      queue.clear();
    }
    waiting.forEach(p -> p.result.completeExceptionally(notSent(p.op, "the client is closed")));
  }

  /**
   * Takes the next batch off the queue, failing calls whose deadline passed while they waited. An
   * empty list gives the in-flight slot back. Called holding the lock, with a slot taken.
   */
  private List<Pending<E>> nextBatch() {
    List<Pending<E>> batch = new ArrayList<>();
    long bytes = 0;
    long now = clock.now();
    while (!queue.isEmpty() && batch.size() < maxOps) {
      Pending<E> next = queue.peek();
      int size = next.message.getSerializedSize() + 8;
      if (!batch.isEmpty() && bytes + size > RoostClient.MAX_REQUEST_BYTES - 64) {
        break;
      }
      queue.poll();
      if (next.deadlineAtNanos <= now) {
        // Completed outside the lock: a callback may call back into this batcher.
        CompletableFuture.runAsync(
            () ->
                next.result.completeExceptionally(
                    new RoostException(
                        StatusCode.DEADLINE_EXCEEDED,
                        next.op + " waited its whole deadline for earlier calls and was not sent",
                        false)));
        continue;
      }
      batch.add(next);
      bytes += size;
    }
    if (batch.isEmpty()) {
      inFlight--;
    }
    return batch;
  }

  private void dispatch(List<Pending<E>> batch) {
    while (!batch.isEmpty()) {
      List<Pending<E>> sending = batch;
      String op =
          sending.size() == 1
              ? sending.get(0).op
              : sending.get(0).op + " (in a batch of " + sending.size() + ")";
      long deadline = sending.stream().mapToLong(Pending::deadlineAtNanos).min().orElseThrow();
      com.google.protobuf.Message message =
          sending.size() == 1
              ? sending.get(0).message
              : envelope.apply(sending.stream().map(Pending::message).toList());
      CompletableFuture<Answer> reply =
          send.send(op, Message.valueOf(ByteString.copyFrom(message.toByteArray())), deadline);
      if (!reply.isDone()) {
        reply.whenComplete((r, failure) -> answered(sending, r, failure));
        return;
      }
      // Answered at once (refused before it was sent): finish here rather than recursing.
      Answer answer = null;
      Throwable failure = null;
      try {
        answer = reply.join();
      } catch (CompletionException | CancellationException e) {
        failure = e.getCause() == null ? e : e.getCause();
      }
      batch = complete(sending, answer, failure);
    }
  }

  private void answered(List<Pending<E>> sent, Answer reply, Throwable failure) {
    List<Pending<E>> next = complete(sent, reply, failure);
    dispatch(next);
  }

  /** Completes the calls of an answered batch and takes the next one (possibly empty). */
  private List<Pending<E>> complete(List<Pending<E>> sent, Answer answer, Throwable failure) {
    try {
      if (failure != null) {
        RoostException e =
            failure instanceof RoostException roost
                ? roost
                : new RoostException(
                    StatusCode.INTERNAL,
                    String.valueOf(failure),
                    kind == Kind.WRITE,
                    null,
                    failure);
        sent.forEach(p -> p.result.completeExceptionally(e));
      } else {
        List<Reply> replies = split(sent, decode.apply(answer));
        for (int i = 0; i < sent.size(); i++) {
          sent.get(i).result.complete(replies.get(i));
        }
      }
    } catch (RoostException e) {
      sent.forEach(p -> p.result.completeExceptionally(e));
    }
    synchronized (this) {
      return closed ? List.of() : nextBatch();
    }
  }

  /** One reply per call: the reply itself for a call sent alone, else the envelope's parts. */
  private List<Reply> split(List<Pending<E>> sent, Reply reply) {
    if (sent.size() == 1) {
      return List.of(reply);
    }
    if (reply.hasBatch() && reply.getBatch().getRepliesCount() == sent.size()) {
      return reply.getBatch().getRepliesList();
    }
    if (reply.getCode() != StatusCode.OK) {
      // The server refused the envelope as a whole: every call in it gets that answer.
      return Collections.nCopies(sent.size(), reply);
    }
    throw new RoostException(
        StatusCode.INTERNAL,
        "the server answered a batch of "
            + sent.size()
            + " with "
            + reply.getBatch().getRepliesCount()
            + " replies",
        kind == Kind.WRITE,
        reply,
        null);
  }

  private static RoostException notSent(String op, String why) {
    return new RoostException(
        StatusCode.FAILED_PRECONDITION, why + "; " + op + " was not sent", false);
  }
}

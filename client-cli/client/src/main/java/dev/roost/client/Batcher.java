package dev.roost.client;

import dev.roost.api.GroupCommit;
import dev.roost.client.ClientRetry.Kind;
import dev.roost.proto.Reply;
import dev.roost.proto.StatusCode;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Coalesces the concurrent calls of one kind (writes, or reads at one consistency) of one client
 * into batches through a {@link GroupCommit}: one Ratis request, and for writes one Raft log entry,
 * for many calls. There is no timer and no added delay: a call made while fewer than {@code
 * maxInFlight} batches are outstanding goes out at once, alone; calls made while all are
 * outstanding go out together (up to {@code maxOps} calls and {@link RoostClient#MAX_REQUEST_BYTES}
 * bytes) as soon as one batch is answered, in the order they were made.
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
  private final int maxQueued;
  private final Function<List<E>, com.google.protobuf.Message> envelope;
  private final Send send;
  private final Function<Answer, Reply> decode;
  private final ClientRetry clock;
  private final GroupCommit<Pending<E>> batches;

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
    this.maxQueued = maxQueued;
    this.envelope = envelope;
    this.send = send;
    this.decode = decode;
    this.clock = clock;
    this.batches =
        new GroupCommit<>(
            maxInFlight,
            maxOps,
            RoostClient.MAX_REQUEST_BYTES - 64,
            maxQueued,
            // The application's own calls, each already held by its caller: the count bound is
            // what keeps a runaway caller from queueing without end.
            Long.MAX_VALUE,
            new GroupCommit.Requests<>() {
              @Override
              public int weight(Pending<E> call) {
                return 1;
              }

              @Override
              public int bytes(Pending<E> call) {
                return call.message.getSerializedSize() + 8;
              }

              @Override
              public boolean leaveOut(Pending<E> call) {
                return call.deadlineAtNanos <= clock.now();
              }

              @Override
              public void leftOut(Pending<E> call) {
                call.result.completeExceptionally(
                    new RoostException(
                        StatusCode.DEADLINE_EXCEEDED,
                        call.op + " waited its whole deadline for earlier calls and was not sent",
                        false));
              }

              @Override
              public CompletableFuture<?> send(List<Pending<E>> calls) {
                return dispatch(calls);
              }
            });
  }

  /**
   * Sends {@code message} alone or with others; the future completes with its own reply (of any
   * status code), or exceptionally with a {@link RoostException} if the request got no answer.
   */
  CompletableFuture<Reply> submit(String op, E message) {
    return submit(op, message, clock.deadlineFromNow());
  }

  /** As {@link #submit(String, Object)}, by a deadline set earlier (on the retry's clock). */
  CompletableFuture<Reply> submit(String op, E message, long deadlineAtNanos) {
    Pending<E> call = new Pending<>(op, message, deadlineAtNanos, new CompletableFuture<>());
    GroupCommit.Refusal refused = batches.submit(call);
    if (refused == GroupCommit.Refusal.CLOSED) {
      call.result.completeExceptionally(notSent(op, "the client is closed"));
    } else if (refused == GroupCommit.Refusal.FULL) {
      call.result.completeExceptionally(
          new RoostException(
              StatusCode.RESOURCE_EXHAUSTED,
              "too many calls waiting in this client (" + maxQueued + "); " + op + " was not sent",
              false));
    }
    return call.result;
  }

  /** Fails the calls still waiting; calls already sent end as the retry policy ends them. */
  void close() {
    batches
        .close()
        .forEach(p -> p.result.completeExceptionally(notSent(p.op, "the client is closed")));
  }

  /** Sends one batch; the future completes once its calls are. */
  private CompletableFuture<?> dispatch(List<Pending<E>> sending) {
    String op =
        sending.size() == 1
            ? sending.get(0).op
            : sending.get(0).op + " (in a batch of " + sending.size() + ")";
    long deadline = sending.stream().mapToLong(Pending::deadlineAtNanos).min().orElseThrow();
    com.google.protobuf.Message message =
        sending.size() == 1
            ? sending.get(0).message
            : envelope.apply(sending.stream().map(Pending::message).toList());
    return send.send(op, Message.valueOf(ByteString.copyFrom(message.toByteArray())), deadline)
        .whenComplete((answer, failure) -> complete(sending, answer, failure));
  }

  /** Completes the calls of an answered batch. */
  private void complete(List<Pending<E>> sent, Answer answer, Throwable failure) {
    try {
      if (failure != null) {
        Throwable cause =
            failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause()
                : failure;
        RoostException e =
            cause instanceof RoostException roost
                ? roost
                : new RoostException(
                    StatusCode.INTERNAL, String.valueOf(cause), kind == Kind.WRITE, null, cause);
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

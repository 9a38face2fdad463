package dev.roost.server;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.GroupCommit;
import dev.roost.proto.Command;
import dev.roost.proto.CommandBatch;
import dev.roost.proto.Reply;
import dev.roost.proto.ReplyBatch;
import dev.roost.proto.StatusCode;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * Combines the writes of many clients into one Raft log entry: the server side of group commit,
 * through the same {@link GroupCommit} as the client's batcher. Each client sends its writes on its
 * own; while the leader has {@code maxInFlight} entries being committed, the writes that arrive
 * wait here and go into the log together, as one {@code CommandBatch}, as soon as one of those
 * entries is answered. So a write that finds the leader idle goes out at once and alone, and no
 * timer adds delay.
 *
 * <p>Every caller gets exactly the Ratis reply its command would have got on its own: the writes
 * keep their request ids (exactly-once holds per write, also when a client retries a write through
 * another path), and the combined reply is cut back into one reply per caller. A client's own batch
 * joins a combined entry whole and gets its own part of the replies as a batch reply. A combined
 * entry the leader refuses before the log (a {@code StateMachineException}: some caller sent a
 * malformed batch) is sent again one caller at a time, so that only the wrong one is refused; any
 * other failure (not the leader, stepping down, closed) goes to every caller in it, each of which
 * then retries on its own.
 */
final class WriteCombiner {

  /** Submits one command to the local Raft server as one client request. */
  @FunctionalInterface
  interface Submit {
    CompletableFuture<RaftClientReply> submit(Command command);
  }

  /** Refused at once: too many calls, or bytes of calls, already wait; nothing of it was sent. */
  static final class Overloaded extends IllegalStateException {
    Overloaded(int queued, long bytes) {
      super(
          "calls already wait for the log on this server (at most "
              + queued
              + ", or "
              + (bytes >> 20)
              + " MiB); try again shortly");
    }
  }

  /**
   * The combined entry was applied but its reply does not match the writes sent: which reply is
   * whose cannot be told, so each caller's write has an unknown outcome (a retry under its request
   * id settles it).
   */
  static final class ReplyMismatch extends IllegalStateException {
    ReplyMismatch(int writes, int replies) {
      super("a combined entry of " + writes + " writes was answered with " + replies + " replies");
    }
  }

  private record Pending(
      Command command,
      int writes,
      BooleanSupplier abandoned,
      CompletableFuture<RaftClientReply> result) {}

  private final Submit submit;
  private final IntConsumer entrySent;
  private final int maxQueued;
  private final long maxQueuedBytes;
  private final GroupCommit<Pending> entries;

  /**
   * @param maxInFlight combined entries outstanding at once
   * @param maxWrites writes in one combined entry (the state machine's batch limit)
   * @param maxBytes bytes of one combined entry (the state machine's command limit)
   * @param maxQueued calls waiting before new ones are refused with {@link Overloaded}
   * @param maxQueuedBytes bytes of calls waiting before new ones are refused with {@link
   *     Overloaded}
   * @param entrySent told the number of writes of each entry sent, for metrics
   */
  WriteCombiner(
      int maxInFlight,
      int maxWrites,
      int maxBytes,
      int maxQueued,
      long maxQueuedBytes,
      Submit submit,
      IntConsumer entrySent) {
    this.submit = submit;
    this.entrySent = entrySent;
    this.maxQueued = maxQueued;
    this.maxQueuedBytes = maxQueuedBytes;
    this.entries =
        new GroupCommit<>(
            maxInFlight,
            maxWrites,
            maxBytes,
            maxQueued,
            maxQueuedBytes,
            new GroupCommit.Requests<>() {
              @Override
              public int weight(Pending call) {
                return call.writes;
              }

              @Override
              public int bytes(Pending call) {
                return call.command.getSerializedSize() + 16;
              }

              @Override
              public boolean leaveOut(Pending call) {
                return call.abandoned.getAsBoolean();
              }

              @Override
              public void leftOut(Pending call) {
                // Its caller has gone: nobody waits for an answer.
              }

              @Override
              public CompletableFuture<?> send(List<Pending> calls) {
                return sendEntry(calls);
              }
            });
  }

  /**
   * Queues {@code command} (one write, or one client's batch) for the next entry. A batch must have
   * passed {@code RoostStateMachine.refusedBeforeCombining}: its writes are counted as sent.
   *
   * @param abandoned true once its caller has gone (cancelled or past its deadline): a write that
   *     waited that long is dropped before it is sent, its caller having moved on
   * @return the Ratis reply to {@code command}; completes exceptionally with {@link Overloaded}, or
   *     if the local server failed the submission without a reply
   */
  CompletableFuture<RaftClientReply> submit(Command command, BooleanSupplier abandoned) {
    int writes = command.hasBatch() ? command.getBatch().getCommandsCount() : 1;
    Pending call = new Pending(command, writes, abandoned, new CompletableFuture<>());
    if (entries.submit(call) != null) {
      call.result.completeExceptionally(new Overloaded(maxQueued, maxQueuedBytes));
    }
    return call.result;
  }

  /** Calls waiting for an entry (tests read it). */
  int queued() {
    return entries.queued();
  }

  /** Sends one entry; the future completes once its callers are answered. */
  private CompletableFuture<?> sendEntry(List<Pending> batch) {
    Command entry = batch.size() == 1 ? batch.get(0).command : combine(batch);
    entrySent.accept(batch.stream().mapToInt(Pending::writes).sum());
    CompletableFuture<RaftClientReply> reply;
    try {
      reply = submit.submit(entry);
    } catch (RuntimeException e) {
      reply = CompletableFuture.failedFuture(e);
    }
    return reply.whenComplete(
        (r, failure) -> {
          try {
            answer(
                batch,
                r,
                failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause()
                    : failure);
          } catch (RuntimeException e) {
            // Whatever went wrong with this entry's answer, its callers must still hear.
            batch.forEach(p -> p.result.completeExceptionally(e));
          }
        });
  }

  private static Command combine(List<Pending> batch) {
    CommandBatch.Builder writes = CommandBatch.newBuilder();
    for (Pending p : batch) {
      if (p.command.hasBatch()) {
        writes.addAllCommands(p.command.getBatch().getCommandsList());
      } else {
        writes.addCommands(p.command);
      }
    }
    return Command.newBuilder().setBatch(writes).build();
  }

  private void answer(List<Pending> batch, RaftClientReply reply, Throwable failure) {
    if (failure != null) {
      batch.forEach(p -> p.result.completeExceptionally(failure));
    } else if (batch.size() == 1) {
      batch.get(0).result.complete(reply);
    } else if (reply.getStateMachineException() != null) {
      // Refused before the log, so nothing of it applied: each caller's command alone gets the
      // answer it would have had.
      batch.forEach(
          p ->
              submit
                  .submit(p.command)
                  .whenComplete(
                      (own, e) -> {
                        if (e != null) {
                          p.result.completeExceptionally(e);
                        } else {
                          p.result.complete(own);
                        }
                      }));
    } else if (!reply.isSuccess()) {
      batch.forEach(p -> p.result.complete(reply));
    } else {
      split(batch, reply);
    }
  }

  /** Cuts the combined entry's batch reply into one reply per caller. */
  private static void split(List<Pending> batch, RaftClientReply combined) {
    Reply reply;
    try {
      reply = Reply.parseFrom(combined.getMessage().getContent().asReadOnlyByteBuffer());
    } catch (InvalidProtocolBufferException e) {
      batch.forEach(p -> p.result.complete(combined));
      return;
    }
    int total = batch.stream().mapToInt(Pending::writes).sum();
    if (reply.getCode() != StatusCode.OK) {
      // The entry was refused as a whole when applied: every caller gets that answer.
      batch.forEach(p -> p.result.complete(combined));
      return;
    }
    if (reply.getBatch().getRepliesCount() != total) {
      ReplyMismatch mismatch = new ReplyMismatch(total, reply.getBatch().getRepliesCount());
      batch.forEach(p -> p.result.completeExceptionally(mismatch));
      return;
    }
    List<Reply> replies = reply.getBatch().getRepliesList();
    int at = 0;
    for (Pending p : batch) {
      Reply own =
          p.command.hasBatch()
              ? Reply.newBuilder()
                  .setCode(StatusCode.OK)
                  .setAppliedIndex(reply.getAppliedIndex())
                  .setBatch(
                      ReplyBatch.newBuilder().addAllReplies(replies.subList(at, at + p.writes)))
                  .build()
              : replies.get(at);
      at += p.writes;
      p.result.complete(withMessage(combined, own));
    }
  }

  private static RaftClientReply withMessage(RaftClientReply combined, Reply own) {
    return RaftClientReply.newBuilder()
        .setClientId(combined.getClientId())
        .setServerId(combined.getServerId())
        .setGroupId(combined.getRaftGroupId())
        .setCallId(combined.getCallId())
        .setSuccess()
        .setLogIndex(combined.getLogIndex())
        .setCommitInfos(combined.getCommitInfos())
        .setMessage(Message.valueOf(UnsafeByteOperations.unsafeWrap(own.toByteArray())))
        .build();
  }
}

package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.Peers;
import dev.roost.proto.Command;
import dev.roost.proto.CommandBatch;
import dev.roost.proto.KvPut;
import dev.roost.proto.Reply;
import dev.roost.proto.ReplyBatch;
import dev.roost.proto.RequestId;
import dev.roost.proto.StatusCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.junit.jupiter.api.Test;

/**
 * The combiner against a fake Raft server that holds every entry until the test answers it, the way
 * a state machine would: one reply per write, its key in the reply's message.
 */
class WriteCombinerTest {
  private static final RaftGroupMemberId LEADER =
      RaftGroupMemberId.valueOf(RaftPeerId.valueOf("n1"), Peers.GROUP_ID);

  /** The entries submitted, in order, each with the future the test completes. */
  private final List<Command> entries = new ArrayList<>();

  private final List<CompletableFuture<RaftClientReply>> answers = new ArrayList<>();

  /** The number of writes of each entry sent, as the metrics hear it. */
  private final List<Integer> sentWrites = new ArrayList<>();

  private WriteCombiner combiner(int maxWrites, int maxBytes, int maxQueued) {
    return combiner(maxWrites, maxBytes, maxQueued, Long.MAX_VALUE);
  }

  private WriteCombiner combiner(int maxWrites, int maxBytes, int maxQueued, long maxQueuedBytes) {
    return new WriteCombiner(
        1,
        maxWrites,
        maxBytes,
        maxQueued,
        maxQueuedBytes,
        command -> {
          CompletableFuture<RaftClientReply> answer = new CompletableFuture<>();
          synchronized (entries) {
            entries.add(command);
            answers.add(answer);
          }
          return answer;
        },
        sentWrites::add);
  }

  private static Command put(String key) {
    return Command.newBuilder()
        .setRequestId(
            RequestId.newBuilder()
                .setSession(1 + (key.hashCode() & 0xFFFF))
                .setSequence(1)
                .setFirstUnanswered(1))
        .setKvPut(KvPut.newBuilder().setKey(key))
        .build();
  }

  private static Command batchOf(String... keys) {
    CommandBatch.Builder batch = CommandBatch.newBuilder();
    for (String key : keys) {
      batch.addCommands(put(key));
    }
    return Command.newBuilder().setBatch(batch).build();
  }

  /** What the state machine answers to a single write or a batch: each write's key, in order. */
  private static RaftClientReply applied(Command entry, long index) {
    Reply reply;
    if (entry.hasBatch()) {
      ReplyBatch.Builder replies = ReplyBatch.newBuilder();
      entry.getBatch().getCommandsList().forEach(w -> replies.addReplies(own(w, index)));
      reply =
          Reply.newBuilder()
              .setCode(StatusCode.OK)
              .setAppliedIndex(index)
              .setBatch(replies)
              .build();
    } else {
      reply = own(entry, index);
    }
    return RaftClientReply.newBuilder()
        .setClientId(ClientId.randomId())
        .setServerId(LEADER)
        .setCallId(index)
        .setSuccess()
        .setLogIndex(index)
        .setMessage(Message.valueOf(UnsafeByteOperations.unsafeWrap(reply.toByteArray())))
        .build();
  }

  private static Reply own(Command write, long index) {
    return Reply.newBuilder()
        .setCode(StatusCode.OK)
        .setMessage(write.getKvPut().getKey())
        .setAppliedIndex(index)
        .build();
  }

  private static RaftClientReply failed(Exception e) {
    return RaftClientReply.newBuilder()
        .setClientId(ClientId.randomId())
        .setServerId(LEADER)
        .setException(e instanceof NotLeaderException nle ? nle : (StateMachineException) e)
        .build();
  }

  private void answer(int entry, long index) {
    answers.get(entry).complete(applied(entries.get(entry), index));
  }

  private static Reply replyOf(CompletableFuture<RaftClientReply> future)
      throws InvalidProtocolBufferException {
    return Reply.parseFrom(future.join().getMessage().getContent().asReadOnlyByteBuffer());
  }

  @Test
  void aWriteThatFindsTheLogIdleGoesOutAtOnceAloneAndUnchanged() throws Exception {
    WriteCombiner combiner = combiner(128, 1 << 20, 100);
    CompletableFuture<RaftClientReply> reply = combiner.submit(put("a"), () -> false);

    assertThat(entries).containsExactly(put("a"));
    answer(0, 7);
    assertThat(replyOf(reply).getMessage()).isEqualTo("a");
    assertThat(reply.join().getLogIndex()).isEqualTo(7);
  }

  @Test
  void writesArrivingWhileAnEntryIsOutShareTheNextEntryAndEachGetsItsOwnReply() throws Exception {
    WriteCombiner combiner = combiner(128, 1 << 20, 100);
    CompletableFuture<RaftClientReply> first = combiner.submit(put("a"), () -> false);
    CompletableFuture<RaftClientReply> b = combiner.submit(put("b"), () -> false);
    CompletableFuture<RaftClientReply> cd = combiner.submit(batchOf("c", "d"), () -> false);
    CompletableFuture<RaftClientReply> e = combiner.submit(put("e"), () -> false);
    assertThat(entries).hasSize(1);
    assertThat(combiner.queued()).isEqualTo(3);

    answer(0, 1);
    assertThat(replyOf(first).getMessage()).isEqualTo("a");
    assertThat(entries).hasSize(2);
    assertThat(entries.get(1)).isEqualTo(batchOf("b", "c", "d", "e"));
    assertThat(b).isNotDone();

    answer(1, 2);
    assertThat(replyOf(b).getMessage()).isEqualTo("b");
    assertThat(replyOf(e).getMessage()).isEqualTo("e");
    Reply batch = replyOf(cd);
    assertThat(batch.getCode()).isEqualTo(StatusCode.OK);
    assertThat(batch.getAppliedIndex()).isEqualTo(2);
    assertThat(batch.getBatch().getRepliesList())
        .extracting(Reply::getMessage)
        .containsExactly("c", "d");
    assertThat(e.join().getLogIndex()).isEqualTo(2);
    assertThat(e.join().getServerId()).isEqualTo(LEADER.getPeerId());
    assertThat(combiner.queued()).isZero();
    assertThat(sentWrites).containsExactly(1, 4);
  }

  @Test
  void anEntryHoldsNoMoreWritesOrBytesThanTheLimitsAndNeverSplitsAClientsBatch() {
    WriteCombiner combiner = combiner(4, 1 << 20, 100);
    combiner.submit(put("first"), () -> false);
    combiner.submit(put("a"), () -> false);
    combiner.submit(batchOf("b", "c"), () -> false);
    combiner.submit(batchOf("d", "e"), () -> false);
    combiner.submit(put("f"), () -> false);

    answer(0, 1);
    assertThat(entries.get(1)).isEqualTo(batchOf("a", "b", "c"));
    answer(1, 2);
    assertThat(entries.get(2)).isEqualTo(batchOf("d", "e", "f"));

    WriteCombiner bytes = combiner(128, 3 * (put("k0").getSerializedSize() + 16), 100);
    entries.clear();
    answers.clear();
    bytes.submit(put("first"), () -> false);
    IntStream.range(0, 5).forEach(i -> bytes.submit(put("k" + i), () -> false));
    answer(0, 1);
    assertThat(entries.get(1)).isEqualTo(batchOf("k0", "k1", "k2"));
    answer(1, 2);
    assertThat(entries.get(2)).isEqualTo(batchOf("k3", "k4"));
  }

  @Test
  void aCombinedEntryRefusedBeforeTheLogIsSentAgainOneCallerAtATime() throws Exception {
    WriteCombiner combiner = combiner(128, 1 << 20, 100);
    combiner.submit(put("first"), () -> false);
    CompletableFuture<RaftClientReply> good = combiner.submit(put("good"), () -> false);
    CompletableFuture<RaftClientReply> bad = combiner.submit(put("bad"), () -> false);
    answer(0, 1);

    answers.get(1).complete(failed(new StateMachineException("refused")));
    assertThat(entries.subList(2, 4)).containsExactly(put("good"), put("bad"));
    answer(2, 2);
    answers.get(3).complete(failed(new StateMachineException("bad is bad")));

    assertThat(replyOf(good).getMessage()).isEqualTo("good");
    assertThat(bad.join().getStateMachineException()).hasMessageContaining("bad is bad");
  }

  @Test
  void anyOtherFailureGoesToEveryCallerOfTheEntryAndTheNextEntryStillGoesOut() {
    WriteCombiner combiner = combiner(128, 1 << 20, 100);
    combiner.submit(put("first"), () -> false);
    CompletableFuture<RaftClientReply> a = combiner.submit(put("a"), () -> false);
    CompletableFuture<RaftClientReply> b = combiner.submit(put("b"), () -> false);
    answer(0, 1);
    CompletableFuture<RaftClientReply> c = combiner.submit(put("c"), () -> false);

    answers.get(1).complete(failed(new NotLeaderException(LEADER, null, List.of())));
    assertThat(a.join().getNotLeaderException()).isNotNull();
    assertThat(b.join().getNotLeaderException()).isNotNull();

    assertThat(entries.get(2)).isEqualTo(put("c"));
    answers.get(2).completeExceptionally(new IllegalStateException("server closed"));
    assertThat(c).isCompletedExceptionally();
    // The slot came back: a new write goes out at once.
    combiner.submit(put("d"), () -> false);
    assertThat(entries).hasSize(4);
  }

  @Test
  void aWriteWhoseCallerHasGoneIsDroppedBeforeItIsSent() {
    WriteCombiner combiner = combiner(128, 1 << 20, 100);
    combiner.submit(put("first"), () -> false);
    AtomicBoolean gone = new AtomicBoolean();
    combiner.submit(put("gone"), gone::get);
    combiner.submit(put("kept"), () -> false);
    gone.set(true);

    answer(0, 1);
    assertThat(entries.get(1)).isEqualTo(put("kept"));
  }

  @Test
  void aFullQueueRefusesNewWritesAtOnceAndChangesNothing() {
    WriteCombiner combiner = combiner(128, 1 << 20, 2);
    combiner.submit(put("first"), () -> false);
    combiner.submit(put("a"), () -> false);
    combiner.submit(put("b"), () -> false);

    CompletableFuture<RaftClientReply> refused = combiner.submit(put("c"), () -> false);
    assertThat(refused)
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(WriteCombiner.Overloaded.class);
    answer(0, 1);
    assertThat(entries.get(1)).isEqualTo(batchOf("a", "b"));
  }

  @Test
  void queuedBytesAreBoundedSoLargeCommandsCannotPinTheHeap() {
    WriteCombiner combiner = combiner(128, 1 << 20, 1000, 100);
    combiner.submit(put("first"), () -> false);
    assertThat(combiner.submit(put("waits"), () -> false)).isNotDone();

    CompletableFuture<RaftClientReply> refused = combiner.submit(put("x".repeat(200)), () -> false);
    assertThat(refused)
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(WriteCombiner.Overloaded.class);
    assertThat(combiner.queued()).isEqualTo(1);
  }

  @Test
  void aCombinedReplyOfTheWrongLengthLeavesEveryCallerWithAnUnknownOutcome() {
    WriteCombiner combiner = combiner(128, 1 << 20, 100);
    combiner.submit(put("first"), () -> false);
    CompletableFuture<RaftClientReply> a = combiner.submit(put("a"), () -> false);
    CompletableFuture<RaftClientReply> b = combiner.submit(batchOf("b", "c"), () -> false);
    answer(0, 1);

    // The state machine answers the entry of three writes with two replies.
    answers.get(1).complete(applied(batchOf("a", "b"), 2));

    for (CompletableFuture<RaftClientReply> caller : List.of(a, b)) {
      assertThat(caller)
          .failsWithin(Duration.ZERO)
          .withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(WriteCombiner.ReplyMismatch.class);
    }
  }
}

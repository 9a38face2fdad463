package dev.roost.statemachine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.Peers;
import dev.roost.api.RejectedCommandException;
import dev.roost.api.WireLimits;
import dev.roost.domain.Limits;
import dev.roost.domain.Validation;
import dev.roost.proto.Command;
import dev.roost.proto.CommandBatch;
import dev.roost.proto.CreatePost;
import dev.roost.proto.Follow;
import dev.roost.proto.GetStateDigest;
import dev.roost.proto.GetUser;
import dev.roost.proto.KvCompareAndSet;
import dev.roost.proto.KvDelete;
import dev.roost.proto.KvEntry;
import dev.roost.proto.KvGet;
import dev.roost.proto.KvList;
import dev.roost.proto.KvPage;
import dev.roost.proto.KvPut;
import dev.roost.proto.ListFollowers;
import dev.roost.proto.ListFollowing;
import dev.roost.proto.ListPosts;
import dev.roost.proto.ListUsers;
import dev.roost.proto.OpenSession;
import dev.roost.proto.Page;
import dev.roost.proto.Post;
import dev.roost.proto.PostPage;
import dev.roost.proto.Query;
import dev.roost.proto.QueryBatch;
import dev.roost.proto.RegisterUser;
import dev.roost.proto.Reply;
import dev.roost.proto.ReplyBatch;
import dev.roost.proto.RequestId;
import dev.roost.proto.SetSettings;
import dev.roost.proto.StatusCode;
import dev.roost.proto.Unfollow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.LongUnaryOperator;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/**
 * Batches of writes and reads through the adapter's Ratis entry points, without a Raft group: as a
 * leader drives them (startTransaction, then applyTransaction with the same context) and as a
 * follower does (a log entry applied as it was written, with a chosen leader time).
 */
class RoostStateMachineTest {
  // The leader's clock, well inside the sessions' timeout (they open at time 0).
  private long leaderClockMs = 1_000;
  private final RoostStateMachine sm =
      withSessions(
          new RoostStateMachine(
              Limits.DEFAULT, RoostStateMachine.Observer.NONE, () -> leaderClockMs));
  private long index;
  private long callId;

  // --- commands and queries ---

  /**
   * A write of the session named {@code client}: "c" or "c1" to "c4" (opened by {@link
   * #withSessions}), or "" for a write with no session.
   */
  private static Command.Builder write(String client, long sequence) {
    long session =
        client.isEmpty() ? 0 : client.equals("c") ? 1 : Long.parseLong(client.substring(1));
    return Command.newBuilder()
        .setRequestId(
            RequestId.newBuilder().setSession(session).setSequence(sequence).setFirstUnanswered(1));
  }

  /**
   * {@code sm} with sessions 1 to 4 open, from an entry at index 0 (before any a test applies)
   * stamped at time 0: writes stamped within the default timeout (10 minutes) find them open.
   */
  static RoostStateMachine withSessions(RoostStateMachine sm) {
    CommandBatch.Builder open = CommandBatch.newBuilder();
    for (long id = 1; id <= 4; id++) {
      open.addCommands(Command.newBuilder().setOpenSession(OpenSession.newBuilder().setId(id)));
    }
    Reply opened = applyEntry(sm, 0, 0, Command.newBuilder().setBatch(open).build());
    assertThat(opened.getBatch().getRepliesList())
        .extracting(r -> r.getSession().getId())
        .containsExactly(1L, 2L, 3L, 4L);
    return sm;
  }

  private static Command register(String client, long sequence, String handle) {
    return write(client, sequence)
        .setRegisterUser(RegisterUser.newBuilder().setHandle(handle))
        .build();
  }

  private static Command post(String client, long sequence, String author, String text) {
    return write(client, sequence)
        .setCreatePost(CreatePost.newBuilder().setAuthor(author).setText(text))
        .build();
  }

  private static Command put(String client, long sequence, String key, String value) {
    return write(client, sequence)
        .setKvPut(
            KvPut.newBuilder()
                .setKey(key)
                .setValue(com.google.protobuf.ByteString.copyFromUtf8(value)))
        .build();
  }

  private static Command batch(List<Command> writes) {
    return Command.newBuilder().setBatch(CommandBatch.newBuilder().addAllCommands(writes)).build();
  }

  private static Command batch(Command... writes) {
    return batch(List.of(writes));
  }

  private static Query getUser(String handle) {
    return Query.newBuilder().setGetUser(GetUser.newBuilder().setHandle(handle)).build();
  }

  private static Query queryBatch(List<Query> queries) {
    return Query.newBuilder().setBatch(QueryBatch.newBuilder().addAllQueries(queries)).build();
  }

  // --- driving the adapter ---

  private RaftClientRequest request(Command command) {
    return request(command, ClientId.randomId());
  }

  private RaftClientRequest request(Command command, ClientId from) {
    return RaftClientRequest.newBuilder()
        .setClientId(from)
        .setServerId(RaftPeerId.valueOf("n1"))
        .setGroupId(Peers.GROUP_ID)
        .setCallId(++callId)
        .setMessage(Message.valueOf(ByteString.copyFrom(command.toByteArray())))
        .setType(RaftClientRequest.writeRequestType())
        .build();
  }

  /** Submits {@code command} as the leader's client would; it must be accepted into the log. */
  private Reply submit(Command command) throws Exception {
    TransactionContext trx = sm.startTransaction(request(command));
    assertThat(trx.getException()).as("refused before the log").isNull();
    trx.initLogEntry(1, ++index);
    return reply(sm.applyTransaction(trx).join());
  }

  /** The leader's refusal of {@code command}, which must be refused. */
  private RejectedCommandException refusal(Command command) throws Exception {
    TransactionContext trx = sm.startTransaction(request(command));
    assertThat(trx.getException()).isInstanceOf(RejectedCommandException.class);
    return (RejectedCommandException) trx.getException();
  }

  /**
   * Applies a log entry holding {@code command}, stamped {@code stampedMs}, at {@code index}, as a
   * follower does: none of the leader's checks run first.
   */
  private static Reply applyEntry(
      RoostStateMachine sm, long index, long stampedMs, Command command) {
    byte[] data = command.toBuilder().setTimestampMs(stampedMs).build().toByteArray();
    return reply(applyAsFollower(sm, index, data));
  }

  /** Applies {@code data} as the log entry at {@code index} of term 1, as a follower does. */
  static Message applyAsFollower(RoostStateMachine sm, long index, byte[] data) {
    LogEntryProto entry =
        LogEntryProto.newBuilder()
            .setTerm(1)
            .setIndex(index)
            .setStateMachineLogEntry(
                StateMachineLogEntryProto.newBuilder().setLogData(ByteString.copyFrom(data)))
            .build();
    return sm.applyTransaction(sm.startTransaction(entry, RaftPeerRole.FOLLOWER)).join();
  }

  private static Reply query(RoostStateMachine sm, Query query) {
    return reply(sm.query(Message.valueOf(ByteString.copyFrom(query.toByteArray()))).join());
  }

  private static Reply reply(Message message) {
    try {
      return Reply.parseFrom(message.getContent().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static List<StatusCode> codes(Reply batchReply) {
    return batchReply.getBatch().getRepliesList().stream().map(Reply::getCode).toList();
  }

  // --- writes ---

  @Test
  void aBatchAppliesEachWriteInOrderWithItsOwnReplyAtTheEntrysIndex() throws Exception {
    Reply r =
        submit(
            batch(
                register("c", 1, "alice"),
                post("c", 2, "alice", "one"),
                post("c", 3, "alice", "two"),
                put("c", 4, "k", "v1"),
                put("c", 5, "k", "v2")));

    assertThat(r.getCode()).isEqualTo(StatusCode.OK);
    assertThat(r.getAppliedIndex()).isEqualTo(1);
    List<Reply> replies = r.getBatch().getRepliesList();
    assertThat(replies).extracting(Reply::getCode).containsOnly(StatusCode.OK).hasSize(5);
    assertThat(replies).extracting(Reply::getAppliedIndex).containsOnly(1L);
    assertThat(replies.get(0).getUser().getHandle()).isEqualTo("alice");
    // Post ids: the entry's index, then the next free ones.
    assertThat(replies.get(1).getPost().getId()).isEqualTo(1);
    assertThat(replies.get(2).getPost().getId()).isEqualTo(2);
    // Two writes to one key in one entry share its revision; the version counts both.
    assertThat(replies.get(4).getKvEntry())
        .isEqualTo(
            KvEntry.newBuilder()
                .setKey("k")
                .setCreateRevision(1)
                .setModRevision(1)
                .setVersion(2)
                .build());

    // The next entry's index, 2, is taken by a post: its post gets 3.
    Reply next = submit(post("c", 6, "alice", "three"));
    assertThat(next.getPost().getId()).isEqualTo(3);
    assertThat(next.getAppliedIndex()).isEqualTo(2);
  }

  @Test
  void theLeaderStampsWritesWithTheClockItIsGiven() throws Exception {
    RoostStateMachine stamped =
        withSessions(
            new RoostStateMachine(Limits.DEFAULT, RoostStateMachine.Observer.NONE, () -> 12_345L));
    TransactionContext trx = stamped.startTransaction(request(register("c", 1, "alice")));
    trx.initLogEntry(1, 1);

    Reply reply = reply(stamped.applyTransaction(trx).join());

    assertThat(reply.getUser().getCreatedAtMs()).isEqualTo(12_345L);
  }

  private static Command setSettings(int maxPostLength) {
    return Command.newBuilder()
        .setSetSettings(
            SetSettings.newBuilder()
                .setSettings(
                    RoostStateMachine.settingsOf(
                        Limits.DEFAULT.withMaxPostCodePoints(maxPostLength))))
        .build();
  }

  @Test
  void settingsAreTakenOnlyFromTheServersOwnAdministrationAndNeverInABatch() throws Exception {
    ClientId admin = ClientId.randomId();
    sm.acceptSettingsFrom(admin);

    TransactionContext stranger = sm.startTransaction(request(setSettings(500)));
    assertThat(((RejectedCommandException) stranger.getException()).code())
        .isEqualTo(StatusCode.PERMISSION_DENIED);
    RejectedCommandException batched = refusal(batch(setSettings(500)));
    assertThat(batched.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(batched.detail()).contains("settings");
    assertThat(sm.settings().getMaxPostLength()).isEqualTo(280);

    Command tooFewReplies =
        Command.newBuilder()
            .setSetSettings(
                SetSettings.newBuilder()
                    .setSettings(
                        RoostStateMachine.settingsOf(Limits.DEFAULT).toBuilder()
                            .setSessionReplies(10)))
            .build();
    TransactionContext refused = sm.startTransaction(request(tooFewReplies, admin));
    assertThat(((RejectedCommandException) refused.getException()).detail())
        .contains("at least 128 replies");

    TransactionContext trx = sm.startTransaction(request(setSettings(500), admin));
    assertThat(trx.getException()).isNull();
    trx.initLogEntry(1, ++index);
    Reply applied = reply(sm.applyTransaction(trx).join());

    assertThat(applied.getSettings().getMaxPostLength()).isEqualTo(500);
    assertThat(sm.settings().getMaxPostLength()).isEqualTo(500);
    assertThat(sm.configured()).isTrue();
    assertThat(submit(post("c", 1, "nobody", "x".repeat(400))).getCode())
        .as("judged by the new length: only the author is missing")
        .isEqualTo(StatusCode.NOT_FOUND);
  }

  @Test
  void theLeaderDrawsTheIdOfEverySessionOpenedAloneOrInABatch() throws Exception {
    Command open = Command.newBuilder().setOpenSession(OpenSession.newBuilder().setId(7)).build();
    Reply alone = submit(open);
    Reply batched = submit(batch(put("c", 1, "k", "v"), open, open));

    long first = batched.getBatch().getReplies(1).getSession().getId();
    long second = batched.getBatch().getReplies(2).getSession().getId();
    assertThat(List.of(alone.getSession().getId(), first, second))
        .as("random, not the 7 a client sent")
        .doesNotHaveDuplicates()
        .allMatch(id -> id > 0 && id != 7);
    assertThat(batched.getBatch().getReplies(0).getCode()).isEqualTo(StatusCode.OK);
  }

  @Test
  void theLeaderStampsItsVersionAndAMemberStopsAtAnEntryOfAnUnknownOne() throws Exception {
    TransactionContext trx = sm.startTransaction(request(register("c", 1, "alice")));
    Command stamped = Command.parseFrom(trx.getStateMachineLogEntry().getLogData().toByteArray());
    assertThat(stamped.getStateMachineVersion()).isEqualTo(RoostStateMachine.VERSION);

    byte[] newer =
        register("c", 1, "alice").toBuilder()
            .setStateMachineVersion(RoostStateMachine.VERSION + 1)
            .build()
            .toByteArray();
    String before = sm.digest().sha256();
    assertThatThrownBy(() -> applyAsFollower(sm, 1, newer))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("version " + (RoostStateMachine.VERSION + 1));
    assertThat(sm.digest().sha256()).isEqualTo(before);
  }

  @Test
  void everyWriteOfABatchTakesTheEnvelopesTime() throws Exception {
    // A follower applies what the leader stamped into the envelope; a time in a write is ignored.
    Command b =
        batch(
            register("c", 1, "alice").toBuilder().setTimestampMs(1).build(),
            post("c", 2, "alice", "hi").toBuilder().setTimestampMs(9_999_999).build());
    Reply r = applyEntry(sm, 1, 5_000, b);
    assertThat(r.getBatch().getReplies(0).getUser().getCreatedAtMs()).isEqualTo(5_000);
    assertThat(r.getBatch().getReplies(1).getPost().getTimestampMs()).isEqualTo(5_000);

    // The leader stamps its own clock into the envelope, over whatever the client sent.
    leaderClockMs = 7_000;
    Reply stamped =
        submit(batch(post("c", 3, "alice", "later").toBuilder().setTimestampMs(1).build()));
    assertThat(stamped.getBatch().getReplies(0).getPost().getTimestampMs()).isEqualTo(7_000);
  }

  @Test
  void aRepeatedBatchGetsTheFirstRepliesAndChangesNothing() {
    Command b =
        batch(register("c", 1, "alice"), post("c", 2, "alice", "once"), put("c", 3, "k", "v"));
    Reply first = applyEntry(sm, 1, 100, b);
    String digest = sm.digest().sha256();

    // The client retries the same batch (same request ids) and it is committed again, later.
    Reply again = applyEntry(sm, 2, 100, b);

    assertThat(again.getAppliedIndex()).isEqualTo(2);
    assertThat(withoutIndexes(again.getBatch())).isEqualTo(withoutIndexes(first.getBatch()));
    assertThat(codes(again)).containsOnly(StatusCode.OK);
    assertThat(sm.digest().sha256()).isEqualTo(digest);
    assertThat(sm.sizes()).isEqualTo(new RoostStateMachine.StateSizes(1, 0, 1, 1, 4));
  }

  private static List<Reply> withoutIndexes(ReplyBatch batch) {
    return batch.getRepliesList().stream()
        .map(r -> r.toBuilder().clearAppliedIndex().build())
        .toList();
  }

  @Test
  void aBatchMixingARepeatedAndANewRequestIdAppliesOnlyTheNewOne() throws Exception {
    submit(register("c", 1, "alice"));
    Reply first = submit(batch(post("c", 2, "alice", "first")));
    long firstId = first.getBatch().getReplies(0).getPost().getId();

    // Request 2 again (a retry coalesced with a new write), then request 3, then 3 once more
    // inside the same batch.
    Reply mixed =
        submit(
            batch(
                post("c", 2, "alice", "first"),
                post("c", 3, "alice", "second"),
                post("c", 3, "alice", "second")));

    List<Reply> replies = mixed.getBatch().getRepliesList();
    assertThat(replies.get(0).getPost()).isEqualTo(first.getBatch().getReplies(0).getPost());
    assertThat(replies.get(1).getPost().getId()).isGreaterThan(firstId);
    assertThat(replies.get(1).getPost().getText()).isEqualTo("second");
    assertThat(replies.get(2).getPost()).isEqualTo(replies.get(1).getPost());
    assertThat(sm.sizes().posts()).isEqualTo(2);
  }

  @Test
  void aBadWriteInABatchGetsItsOwnErrorAndTheOthersApply() throws Exception {
    Reply r =
        submit(
            batch(
                register("c", 1, "not a handle"),
                register("c", 2, "alice"),
                register("", 3, "bob"), // no client id: a malformed request id
                register("c", 0, "bob"), // sequence 0: a malformed request id
                post("c", 4, "ghost", "boo"), // a state-dependent refusal
                write("c", 5).build(), // no operation
                post("c", 6, "alice", "hello")));

    assertThat(r.getCode()).isEqualTo(StatusCode.OK);
    assertThat(codes(r))
        .containsExactly(
            StatusCode.INVALID_ARGUMENT,
            StatusCode.OK,
            StatusCode.INVALID_ARGUMENT,
            StatusCode.INVALID_ARGUMENT,
            StatusCode.NOT_FOUND,
            StatusCode.INVALID_ARGUMENT,
            StatusCode.OK);
    assertThat(r.getBatch().getRepliesList())
        .allSatisfy(reply -> assertThat(reply.getAppliedIndex()).isEqualTo(1));
    assertThat(r.getBatch().getReplies(0).getMessage()).contains("bad handle");
    assertThat(sm.sizes()).isEqualTo(new RoostStateMachine.StateSizes(1, 0, 1, 0, 4));
    // The malformed request ids were not remembered: "bob" was never registered under them.
    assertThat(query(sm, getUser("bob")).getCode()).isEqualTo(StatusCode.NOT_FOUND);
  }

  @Test
  void malformedBatchesAreRefusedBeforeTheLog() throws Exception {
    List<Command> tooMany = new ArrayList<>();
    for (int i = 1; i <= sm.maxBatchCommands() + 1; i++) {
      tooMany.add(put("c", i, "k" + i, "v"));
    }
    Map<String, Command> malformed = new HashMap<>();
    malformed.put("empty", batch());
    malformed.put("nested", batch(register("c", 1, "alice"), batch(register("c", 2, "bob"))));
    malformed.put(
        "with a request id of its own",
        batch(register("c", 1, "alice")).toBuilder()
            .setRequestId(RequestId.newBuilder().setSession(1).setSequence(9).setFirstUnanswered(1))
            .build());
    malformed.put("too many writes", batch(tooMany));

    for (Map.Entry<String, Command> m : malformed.entrySet()) {
      RejectedCommandException refused = refusal(m.getValue());
      assertThat(refused.code()).as(m.getKey()).isEqualTo(StatusCode.INVALID_ARGUMENT);
      assertThat(refused.detail()).as(m.getKey()).contains("batch");
      // The write gateway refuses it the same way before combining it with other clients' writes.
      assertThat(sm.refusedBeforeCombining(m.getValue(), m.getValue().getSerializedSize()))
          .as(m.getKey())
          .get()
          .extracting(RejectedCommandException::getMessage)
          .isEqualTo(refused.getMessage());
    }
    Command ok = batch(register("c", 1, "alice"));
    assertThat(sm.refusedBeforeCombining(ok, ok.getSerializedSize())).isEmpty();
    Command single = register("c", 1, "alice");
    assertThat(sm.refusedBeforeCombining(single, single.getSerializedSize())).isEmpty();
    // The whole command's size limit holds for a batch too: three writes valid on their own.
    String mib = "x".repeat(1 << 20);
    Command big = batch(put("c", 1, "a", mib), put("c", 2, "b", mib), put("c", 3, "c", mib));
    RejectedCommandException tooBig = refusal(big);
    assertThat(tooBig.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
    assertThat(sm.refusedBeforeCombining(big, big.getSerializedSize()))
        .get()
        .extracting(RejectedCommandException::getMessage)
        .isEqualTo(tooBig.getMessage());
    // The largest batch allowed is accepted.
    Reply full = submit(batch(tooMany.subList(0, sm.maxBatchCommands())));
    assertThat(full.getBatch().getRepliesCount()).isEqualTo(sm.maxBatchCommands());
    assertThat(codes(full)).containsOnly(StatusCode.OK);
  }

  @Test
  void aBatchIsCappedByTheRequestIdsRememberedPerClientAndByTheConstant() {
    assertThat(new RoostStateMachine(Limits.DEFAULT.withSessions(10, 5, 1)).maxBatchCommands())
        .isEqualTo(5);
    assertThat(new RoostStateMachine(Limits.DEFAULT.withSessions(10, 5000, 1)).maxBatchCommands())
        .isEqualTo(WireLimits.MAX_BATCH_COMMANDS);
  }

  @Test
  void aMalformedBatchThatReachesTheLogIsRefusedWholeInApply() {
    // Entries a leader that checked less could have written: apply gives the leader's answer.
    Reply empty = applyEntry(sm, 1, 1, batch());
    assertThat(empty.getCode()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(empty.hasBatch()).isFalse();

    Reply nested = applyEntry(sm, 2, 1, batch(register("c", 1, "alice"), batch()));
    assertThat(nested.getCode()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(sm.sizes().users()).isZero();
    assertThat(sm.appliedIndex()).isEqualTo(2);
  }

  // --- reads ---

  @Test
  void aQueryBatchAnswersEachQueryInOrderWithItsOwnErrors() throws Exception {
    submit(batch(register("c", 1, "alice"), put("c", 2, "k", "v")));
    Reply r =
        query(
            sm,
            queryBatch(
                List.of(
                    getUser("alice"),
                    getUser("nobody"),
                    getUser("not a handle"),
                    queryBatch(List.of(getUser("alice"))),
                    Query.getDefaultInstance(),
                    Query.newBuilder().setKvGet(KvGet.newBuilder().setKey("k")).build())));

    assertThat(r.getCode()).isEqualTo(StatusCode.OK);
    assertThat(r.getAppliedIndex()).isEqualTo(1);
    assertThat(codes(r))
        .containsExactly(
            StatusCode.OK,
            StatusCode.NOT_FOUND,
            StatusCode.INVALID_ARGUMENT,
            StatusCode.INVALID_ARGUMENT,
            StatusCode.INVALID_ARGUMENT,
            StatusCode.OK);
    List<Reply> replies = r.getBatch().getRepliesList();
    assertThat(replies).extracting(Reply::getAppliedIndex).containsOnly(1L);
    assertThat(replies.get(0)).isEqualTo(query(sm, getUser("alice")));
    assertThat(replies.get(3).getMessage()).contains("batch");
    assertThat(replies.get(5).getKvEntry().getValue().toStringUtf8()).isEqualTo("v");
  }

  @Test
  void aDigestBeforeAnyEntryIsAppliedIsTheEmptyStates() {
    // Found by EntryFuzzTest: the digest cache took Ratis' applied index before any entry (-1)
    // for a cached digest that did not exist.
    Query digest =
        Query.newBuilder().setGetStateDigest(GetStateDigest.getDefaultInstance()).build();

    Reply r = query(sm, digest);

    assertThat(r.getCode()).isEqualTo(StatusCode.OK);
    assertThat(r.getStateDigest().getUsers()).isZero();
    assertThat(query(sm, digest)).isEqualTo(r);
  }

  @Test
  void aQueryBatchStopsAnsweringOnceItsRepliesReachTheBudget() throws Exception {
    String mib = "x".repeat(Validation.MAX_VALUE_BYTES - 16);
    for (int i = 1; i <= 8; i++) {
      submit(put("c", i, "big/" + i, mib));
    }
    Query page =
        Query.newBuilder()
            .setKvList(KvList.newBuilder().setPrefix("big/").setPage(Page.newBuilder().setLimit(8)))
            .build();

    Reply r = query(sm, queryBatch(List.of(page, page, page, page, getUser("nobody"))));

    // Each page ends at its own budget (4 MiB), and the batch at its budget (8 MiB): once two
    // pages have taken it there, what follows is left unanswered, to be asked again.
    List<StatusCode> codes = codes(r);
    assertThat(codes.subList(0, 2)).containsOnly(StatusCode.OK);
    assertThat(codes.subList(3, 5)).containsOnly(StatusCode.RESOURCE_EXHAUSTED);
    assertThat(r.getBatch().getReplies(0).getKvPage().getEntriesCount()).isLessThan(8);
    assertThat(r.getSerializedSize())
        .isLessThan(RoostStateMachine.BATCH_REPLY_BUDGET_BYTES + (5 << 20));
  }

  @Test
  void aQueryBatchOfNoneOrTooManyQueriesIsRefusedWhole() {
    List<Query> tooMany = new ArrayList<>();
    for (int i = 0; i <= WireLimits.MAX_BATCH_QUERIES; i++) {
      tooMany.add(getUser("alice"));
    }
    for (List<Query> queries : List.of(List.<Query>of(), tooMany)) {
      Reply r = query(sm, queryBatch(queries));
      assertThat(r.getCode()).isEqualTo(StatusCode.INVALID_ARGUMENT);
      assertThat(r.hasBatch()).isFalse();
    }
    assertThat(query(sm, queryBatch(tooMany.subList(0, WireLimits.MAX_BATCH_QUERIES))))
        .satisfies(r -> assertThat(r.getBatch().getRepliesCount()).isEqualTo(1024));
  }

  // --- a batch is its writes one by one ---

  private static final List<String> HANDLES = List.of("alice", "bob", "carol", "Dave", "x!");
  private static final List<String> CANONICAL_HANDLES = List.of("alice", "bob", "carol", "dave");
  private static final List<String> KEYS = List.of("a", "a/b", "b");
  private static final List<String> TEXT_PIECES = List.of("a", "b", " ", "🐦");
  // A small window per session, so that replies are forgotten within a sequence.
  private static final Limits PROPERTY_LIMITS =
      Limits.DEFAULT.withMaxPostCodePoints(20).withSessions(4, 6, 60_000);
  private static final int SEQUENCES = 200;

  /**
   * Applies random write sequences twice over: one write per entry, and cut into random batches
   * whose writes share an entry (its index and its time). Both give the same replies, in order, and
   * the same state, up to what depends on the index: key revisions (mapped to the entry that
   * carried the write) and post ids (compared by rank, and checked unique and increasing). For
   * sequences of users and follows only, nothing depends on the index and the state digests must be
   * equal. A failure names its seed: {@link #writes(long)} reproduces the sequence, and a {@code
   * SplittableRandom(-seed)} its cuts and times.
   */
  @Test
  void batchesGiveTheSameRepliesAndStateAsTheirWritesOneByOne() {
    int severalPostsInOneEntry = 0;
    for (long seed = 1; seed <= SEQUENCES; seed++) {
      boolean usersAndFollowsOnly = seed % 2 == 0;
      List<Command> writes = writes(seed);
      SplittableRandom r = new SplittableRandom(-seed);
      RoostStateMachine single = withSessions(new RoostStateMachine(PROPERTY_LIMITS));
      RoostStateMachine batched = withSessions(new RoostStateMachine(PROPERTY_LIMITS));
      List<Reply> singleReplies = new ArrayList<>();
      List<Reply> batchedReplies = new ArrayList<>();
      Map<Long, Long> entryOfSingle = new HashMap<>();
      long singleIndex = 0;
      long entry = 0;
      long lastPostId = 0;
      Set<Long> seenPostIds = new HashSet<>();
      for (int from = 0; from < writes.size(); ) {
        int to = Math.min(writes.size(), from + 1 + r.nextInt(single.maxBatchCommands()));
        List<Command> cut = writes.subList(from, to);
        long stampedMs = r.nextInt(51); // leaders' clocks disagree: time may go back
        entry++;
        long postsBefore = batched.sizes().posts();
        Reply envelope = applyEntry(batched, entry, stampedMs, batch(cut));
        assertThat(envelope.getCode()).as("seed %d", seed).isEqualTo(StatusCode.OK);
        assertThat(envelope.getAppliedIndex()).as("seed %d", seed).isEqualTo(entry);
        assertThat(envelope.getBatch().getRepliesCount()).as("seed %d", seed).isEqualTo(cut.size());
        batchedReplies.addAll(envelope.getBatch().getRepliesList());
        for (Command w : cut) {
          entryOfSingle.put(++singleIndex, entry);
          singleReplies.add(applyEntry(single, singleIndex, stampedMs, w));
        }
        // New posts of this entry: one id each, above every earlier one, from the entry's index on.
        Set<Long> newIds = newPostIds(envelope, seenPostIds);
        assertThat((long) newIds.size())
            .as("seed %d, entry %d: posts created", seed, entry)
            .isEqualTo(batched.sizes().posts() - postsBefore);
        severalPostsInOneEntry += newIds.size() > 1 ? 1 : 0;
        for (long id : newIds) {
          assertThat(id).as("seed %d, entry %d", seed, entry).isGreaterThan(lastPostId);
          assertThat(id).as("seed %d, entry %d", seed, entry).isGreaterThanOrEqualTo(entry);
          lastPostId = id;
        }
        from = to;
      }

      Normalizer ofSingle = new Normalizer(entryOfSingle::get, single);
      Normalizer ofBatched = new Normalizer(LongUnaryOperator.identity(), batched);
      assertThat(ofBatched.all(batchedReplies))
          .as("seed %d: replies", seed)
          .isEqualTo(ofSingle.all(singleReplies));
      // The final states answer every query alike; the batched one is asked in one query batch.
      Reply batchAnswer = query(batched, queryBatch(everyQuery()));
      assertThat(ofBatched.all(batchAnswer.getBatch().getRepliesList()))
          .as("seed %d: state", seed)
          .isEqualTo(ofSingle.all(everyQuery().stream().map(q -> query(single, q)).toList()));
      assertThat(batched.sizes()).as("seed %d", seed).isEqualTo(single.sizes());
      if (usersAndFollowsOnly) {
        assertThat(batched.digest()).as("seed %d", seed).isEqualTo(single.digest());
      }
    }
    // The sequences did exercise what batches change.
    assertThat(severalPostsInOneEntry).isGreaterThan(SEQUENCES / 10);
  }

  /**
   * The ids of the posts an entry's writes answer with that no earlier entry answered with, in
   * order and once each (a write repeated inside the entry answers with the same post).
   */
  private static LinkedHashSet<Long> newPostIds(Reply envelope, Set<Long> seen) {
    LinkedHashSet<Long> ids = new LinkedHashSet<>();
    for (Reply w : envelope.getBatch().getRepliesList()) {
      if (w.getCode() == StatusCode.OK && w.hasPost() && !seen.contains(w.getPost().getId())) {
        ids.add(w.getPost().getId());
      }
    }
    seen.addAll(ids);
    return ids;
  }

  /**
   * A random sequence of up to 120 writes over a small alphabet: four sessions with a few request
   * ids each (so writes repeat and are forgotten), now and then a malformed request id or a write
   * with no operation; the sequence is sent twice, as a client's retries would.
   */
  static List<Command> writes(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    boolean usersAndFollowsOnly = seed % 2 == 0;
    List<Command> writes = new ArrayList<>();
    long[] lastSequence = new long[5];
    for (int i = r.nextInt(121); i > 0; i--) {
      Command.Builder b = Command.newBuilder();
      // Mostly each session's next write, sometimes a retry of a recent one; the client claims to
      // have seen the replies up to a few writes back.
      int session = 1 + r.nextInt(4);
      long sequence =
          r.nextInt(4) > 0
              ? ++lastSequence[session]
              : Math.max(1, lastSequence[session] - r.nextInt(8));
      b.setRequestId(
          r.nextInt(25) == 0
              ? RequestId.newBuilder().setSequence(1).setFirstUnanswered(1)
              : RequestId.newBuilder()
                  .setSession(session)
                  .setSequence(sequence)
                  .setFirstUnanswered(Math.max(1, sequence - r.nextInt(8))));
      switch (r.nextInt(usersAndFollowsOnly ? 5 : 12)) {
        case 0, 1 -> b.setRegisterUser(RegisterUser.newBuilder().setHandle(pick(r, HANDLES)));
        case 2, 3 ->
            b.setFollow(
                Follow.newBuilder().setFollower(pick(r, HANDLES)).setFollowee(pick(r, HANDLES)));
        case 4 ->
            b.setUnfollow(
                Unfollow.newBuilder().setFollower(pick(r, HANDLES)).setFollowee(pick(r, HANDLES)));
        case 5, 6, 7 ->
            b.setCreatePost(CreatePost.newBuilder().setAuthor(pick(r, HANDLES)).setText(text(r)));
        case 8 -> b.setKvPut(KvPut.newBuilder().setKey(pick(r, KEYS)).setValue(value(r)));
        case 9 -> b.setKvDelete(KvDelete.newBuilder().setKey(pick(r, KEYS)));
        case 10 ->
            b.setKvCompareAndSet(
                KvCompareAndSet.newBuilder()
                    .setKey(pick(r, KEYS))
                    .setExpectedValue(value(r))
                    .setValue(value(r)));
        default ->
            b.setKvCompareAndSet(
                KvCompareAndSet.newBuilder()
                    .setKey(pick(r, KEYS))
                    .setExpectedVersion(r.nextInt(4))
                    .setValue(value(r)));
      }
      if (r.nextInt(30) == 0) {
        b.clearOp();
      }
      writes.add(b.build());
    }
    List<Command> twice = new ArrayList<>(writes);
    twice.addAll(writes);
    return twice;
  }

  private static <T> T pick(SplittableRandom r, List<T> from) {
    return from.get(r.nextInt(from.size()));
  }

  private static String text(SplittableRandom r) {
    StringBuilder b = new StringBuilder();
    for (int i = r.nextInt(24); i > 0; i--) {
      b.append(pick(r, TEXT_PIECES));
    }
    return b.toString();
  }

  private static com.google.protobuf.ByteString value(SplittableRandom r) {
    byte[] v = new byte[r.nextInt(3)];
    r.nextBytes(v);
    return com.google.protobuf.ByteString.copyFrom(v);
  }

  /** A query of every kind over the generator's handles and keys; posts on one page each. */
  private static List<Query> everyQuery() {
    List<Query> all = new ArrayList<>();
    Page small = Page.newBuilder().setLimit(2).build();
    Page whole = Page.newBuilder().setLimit(200).build();
    for (String h : HANDLES) {
      all.add(getUser(h));
      all.add(
          Query.newBuilder()
              .setListFollowing(ListFollowing.newBuilder().setHandle(h).setPage(small))
              .build());
      all.add(
          Query.newBuilder()
              .setListFollowers(ListFollowers.newBuilder().setHandle(h).setPage(small))
              .build());
      all.add(
          Query.newBuilder()
              .setListPosts(ListPosts.newBuilder().setAuthor(h).setPage(whole))
              .build());
      all.add(
          Query.newBuilder()
              .setGetTimeline(dev.roost.proto.GetTimeline.newBuilder().setHandle(h).setPage(whole))
              .build());
    }
    all.add(Query.newBuilder().setListUsers(ListUsers.newBuilder().setPage(whole)).build());
    for (String k : KEYS) {
      all.add(Query.newBuilder().setKvGet(KvGet.newBuilder().setKey(k)).build());
    }
    all.add(
        Query.newBuilder().setKvList(KvList.newBuilder().setPrefix("a").setPage(small)).build());
    all.add(Query.newBuilder().setKvList(KvList.newBuilder().setPage(whole)).build());
    return all;
  }

  /**
   * Rewrites what depends on log indexes into what must agree between the two runs: an index or key
   * revision becomes the entry that carried it, a post id its rank among the state's posts.
   */
  private static final class Normalizer {
    private final LongUnaryOperator entryOf;
    private final Map<Long, Long> rankOfPostId = new HashMap<>();

    Normalizer(LongUnaryOperator entryOf, RoostStateMachine sm) {
      this.entryOf = entryOf;
      TreeSet<Long> ids = new TreeSet<>();
      for (String h : CANONICAL_HANDLES) {
        Reply posts =
            query(
                sm,
                Query.newBuilder()
                    .setListPosts(
                        ListPosts.newBuilder()
                            .setAuthor(h)
                            .setPage(Page.newBuilder().setLimit(200)))
                    .build());
        posts.getPostPage().getPostsList().forEach(p -> assertThat(ids.add(p.getId())).isTrue());
      }
      long rank = 0;
      for (long id : ids) {
        rankOfPostId.put(id, ++rank);
      }
    }

    List<Reply> all(List<Reply> replies) {
      return replies.stream().map(this::reply).toList();
    }

    private Reply reply(Reply r) {
      Reply.Builder b = r.toBuilder().setAppliedIndex(index(r.getAppliedIndex()));
      switch (r.getPayloadCase()) {
        case POST -> b.setPost(post(r.getPost()));
        case POST_PAGE ->
            b.setPostPage(
                PostPage.newBuilder()
                    .setNextPageToken(r.getPostPage().getNextPageToken())
                    .addAllPosts(r.getPostPage().getPostsList().stream().map(this::post).toList()));
        case KV_ENTRY -> b.setKvEntry(kvEntry(r.getKvEntry()));
        case KV_PAGE ->
            b.setKvPage(
                KvPage.newBuilder()
                    .setNextPageToken(r.getKvPage().getNextPageToken())
                    .addAllEntries(
                        r.getKvPage().getEntriesList().stream().map(this::kvEntry).toList()));
        case BATCH ->
            b.setBatch(ReplyBatch.newBuilder().addAllReplies(all(r.getBatch().getRepliesList())));
        default -> {}
      }
      return b.build();
    }

    private long index(long index) {
      // Before the first entry the applied index is not positive; it maps to itself.
      return index <= 0 ? index : entryOf.applyAsLong(index);
    }

    private Post post(Post p) {
      Long rank = rankOfPostId.get(p.getId());
      assertThat(rank).as("post %d is in the state", p.getId()).isNotNull();
      return p.toBuilder().setId(rank).build();
    }

    private KvEntry kvEntry(KvEntry e) {
      return e.toBuilder()
          .setCreateRevision(index(e.getCreateRevision()))
          .setModRevision(index(e.getModRevision()))
          .build();
    }
  }
}

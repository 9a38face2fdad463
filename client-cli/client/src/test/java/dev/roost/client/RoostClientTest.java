package dev.roost.client;

import static dev.roost.client.FakeTransport.reply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.roost.api.Peers;
import dev.roost.api.RejectedCommandException;
import dev.roost.proto.Command;
import dev.roost.proto.FollowResult;
import dev.roost.proto.GatewayReply;
import dev.roost.proto.KvEntry;
import dev.roost.proto.Post;
import dev.roost.proto.Reply;
import dev.roost.proto.StatusCode;
import dev.roost.proto.User;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RoostClientTest {
  private static final String PEERS = "n1=127.0.0.1:7001,n2=127.0.0.1:7002";
  private static final Reply POSTED =
      Reply.newBuilder()
          .setAppliedIndex(7)
          .setPost(Post.newBuilder().setId(7).setAuthor("alice").setText("hi"))
          .build();

  private final List<Leader> leaders = new CopyOnWriteArrayList<>();
  private FakeTransport fake;
  private RoostClient client;

  @AfterEach
  void close() {
    if (client != null) {
      client.close();
    }
  }

  private RoostClient client(Duration deadline) {
    client =
        RoostClient.builder()
            .peers(PEERS)
            .deadline(deadline)
            .onLeaderChange(leaders::add)
            .build(retry -> fake = new FakeTransport(retry));
    return client;
  }

  private void answer(Reply reply) {
    fake.server = (write, m) -> reply(fake.leader.toString(), reply);
  }

  @Test
  void writesCarryOneClientIdAndIncreasingSequences() throws Exception {
    client(Duration.ofSeconds(5));
    answer(POSTED);

    client.post("alice", "one");
    client.post("alice", "two");
    client.post("alice", "three");

    assertThat(fake.writes).hasSize(3);
    for (int i = 0; i < 3; i++) {
      Command command = Command.parseFrom(fake.writes.get(i));
      assertThat(command.getRequestId().getSession()).isEqualTo(1);
      assertThat(command.getRequestId().getSequence()).isEqualTo(i + 1);
      // Each call ended before the next: the client had seen every earlier reply.
      assertThat(command.getRequestId().getFirstUnanswered()).isEqualTo(i + 1);
      assertThat(command.getTimestampMs()).as("the leader stamps the time").isZero();
    }
    assertThat(client.sessionId()).isEqualTo(1);
    assertThat(fake.sessionsOpened).hasValue(1);
  }

  @Test
  void aWriteRetriedAfterALeadershipMoveResendsTheSameBytes() {
    client(Duration.ofSeconds(5));
    AtomicInteger calls = new AtomicInteger();
    // Ratis gives up at once on a leader stepping down; the client re-sends the same command.
    fake.server =
        (write, m) -> {
          if (calls.incrementAndGet() == 1) {
            throw new LeaderSteppingDownException("n1 is stepping down");
          }
          return reply("n1", POSTED);
        };

    Post post = client.post("alice", "hi");

    assertThat(post.getId()).isEqualTo(7);
    assertThat(fake.writes).hasSize(2);
    assertThat(fake.writes.get(1)).isEqualTo(fake.writes.get(0));
  }

  @Test
  void aReplyCodeIsADefiniteFailureCarryingTheReply() {
    client(Duration.ofSeconds(5));
    answer(
        Reply.newBuilder()
            .setCode(StatusCode.NOT_FOUND)
            .setMessage("no user bob")
            .setAppliedIndex(42)
            .build());

    RoostException e = catchThrowableOfType(RoostException.class, () -> client.getUser("bob"));

    assertThat(e.code()).isEqualTo(StatusCode.NOT_FOUND);
    assertThat(e.getMessage()).isEqualTo("no user bob");
    assertThat(e.outcomeUnknown()).isFalse();
    assertThat(e.reply()).map(Reply::getAppliedIndex).contains(42L);
    assertThat(client.lastAppliedIndex()).isEqualTo(42);
  }

  @Test
  void aWriteTooOldForTheServersToJudgeHasAnUnknownOutcome() {
    client(Duration.ofSeconds(5));
    answer(
        Reply.newBuilder()
            .setCode(StatusCode.ABORTED)
            .setMessage("request 4 is older than the remembered window; its outcome is unknown")
            .build());

    RoostException e =
        catchThrowableOfType(RoostException.class, () -> client.kvPut("k", new byte[] {1}));

    assertThat(e.code()).isEqualTo(StatusCode.ABORTED);
    assertThat(e.outcomeUnknown()).isTrue();
  }

  @Test
  void aWriteInAnExpiredSessionHasAnUnknownOutcomeAndTheNextOpensANewSession() throws Exception {
    client(Duration.ofSeconds(5));
    answer(
        Reply.newBuilder()
            .setCode(StatusCode.SESSION_EXPIRED)
            .setMessage("session 1 has expired or was never opened")
            .build());

    RoostException e = catchThrowableOfType(RoostException.class, () -> client.post("alice", "hi"));

    assertThat(e.code()).isEqualTo(StatusCode.SESSION_EXPIRED);
    assertThat(e.outcomeUnknown()).isTrue();
    answer(POSTED);
    client.post("alice", "again");
    assertThat(fake.sessionsOpened).hasValue(2);
    Command second = Command.parseFrom(fake.writes.get(1));
    assertThat(second.getRequestId().getSession()).isEqualTo(2);
    assertThat(second.getRequestId().getSequence()).isEqualTo(1);
    assertThat(client.sessionId()).isEqualTo(2);
  }

  @Test
  void aWriteThatCouldNotOpenASessionWasNotSentAndSaysSo() throws Exception {
    client(Duration.ofSeconds(5));
    // No session can be opened: the servers refuse everything.
    fake.server =
        (write, m) ->
            reply(
                "n1",
                Reply.newBuilder()
                    .setCode(StatusCode.RESOURCE_EXHAUSTED)
                    .setMessage("busy")
                    .build());
    fake.openSessions = false;

    RoostException e = catchThrowableOfType(RoostException.class, () -> client.post("alice", "hi"));

    assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
    assertThat(e.outcomeUnknown()).isFalse();
    assertThat(e.getMessage()).isEqualTo("busy (while opening a session; the post was not sent)");
    assertThat(fake.writes)
        .allSatisfy(w -> assertThat(Command.parseFrom(w).hasOpenSession()).isTrue());
    // Once sessions open again, the next write goes through.
    fake.openSessions = true;
    answer(POSTED);
    assertThat(client.post("alice", "hi").getId()).isEqualTo(7);
  }

  @Test
  void aFailedCompareAndSetCarriesTheCurrentEntry() {
    client(Duration.ofSeconds(5));
    KvEntry current = KvEntry.newBuilder().setKey("k").setVersion(3).build();
    answer(
        Reply.newBuilder()
            .setCode(StatusCode.FAILED_PRECONDITION)
            .setMessage("version is 3")
            .setKvEntry(current)
            .build());

    RoostException e =
        catchThrowableOfType(
            RoostException.class, () -> client.kvCompareAndSetVersion("k", 2, new byte[] {1}));

    assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(e.outcomeUnknown()).isFalse();
    assertThat(e.reply()).map(Reply::getKvEntry).contains(current);
  }

  @Test
  void aRefusalOnTheLeaderIsADefiniteFailureWithItsCode() {
    client(Duration.ofSeconds(5));
    RaftGroupMemberId n1 = RaftGroupMemberId.valueOf(RaftPeerId.valueOf("n1"), Peers.GROUP_ID);
    // As Ratis rebuilds it on the client: the state machine's exception inside.
    fake.server =
        (write, m) -> {
          throw new StateMachineException(
              n1, new RejectedCommandException(StatusCode.INVALID_ARGUMENT, "bad handle 'A!'"));
        };

    RoostException e =
        catchThrowableOfType(RoostException.class, () -> client.registerUser("A!", null));

    assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(e.getMessage()).isEqualTo("bad handle 'A!'");
    assertThat(e.outcomeUnknown()).isFalse();
  }

  @Test
  void aWriteTheGatewayAnswersIsNotSentAgain() {
    client(Duration.ofSeconds(5));
    fake.gateway =
        m ->
            GatewayReply.newBuilder()
                .setOutcome(GatewayReply.Outcome.ANSWERED)
                .setServerId("n1")
                .setReply(POSTED.toByteString())
                .build();

    assertThat(client.post("alice", "hi").getId()).isEqualTo(7);
    assertThat(fake.gatewayWrites).hasSize(1);
    assertThat(fake.writes).isEmpty();
  }

  @Test
  void theLeadersRefusalThroughTheGatewayIsADefiniteFailureWithItsCode() {
    client(Duration.ofSeconds(5));
    fake.gateway =
        m ->
            GatewayReply.newBuilder()
                .setOutcome(GatewayReply.Outcome.REJECTED)
                .setServerId("n1")
                .setCode(StatusCode.INVALID_ARGUMENT)
                .setMessage("bad handle 'A!'")
                .build();

    RoostException e =
        catchThrowableOfType(RoostException.class, () -> client.registerUser("A!", null));

    assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(e.getMessage()).isEqualTo("bad handle 'A!'");
    assertThat(e.outcomeUnknown()).isFalse();
    assertThat(fake.writes).as("not sent again").isEmpty();
  }

  @Test
  void aWriteTheGatewayDidNotSettleGoesTheRatisWayWithTheSameBytes() {
    client(Duration.ofSeconds(5));
    answer(POSTED);
    // Not the leader; then an answer without a reply, which may have been applied; then the
    // gateway's queue is full, so nothing was sent.
    List<GatewayReply> unsettled =
        List.of(
            GatewayReply.newBuilder()
                .setOutcome(GatewayReply.Outcome.NOT_TAKEN)
                .setServerId("n1")
                .setLeaderId("n2")
                .build(),
            GatewayReply.newBuilder()
                .setOutcome(GatewayReply.Outcome.ANSWERED)
                .setServerId("n1")
                .build());
    AtomicInteger attempts = new AtomicInteger();
    fake.gateway =
        m -> {
          int attempt = attempts.getAndIncrement();
          if (attempt < unsettled.size()) {
            return unsettled.get(attempt);
          }
          throw new ResourceUnavailableException("40 calls already wait");
        };

    for (int i = 0; i < 3; i++) {
      assertThat(client.post("alice", "hi " + i).getId()).isEqualTo(7);
    }

    assertThat(fake.gatewayWrites).hasSize(3);
    assertThat(fake.writes).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(fake.writes.get(i)).isEqualTo(fake.gatewayWrites.get(i));
    }
  }

  @Test
  void aRefusedGatewayAttemptCountsAsAnAttemptThatMayHaveBeenTaken() {
    client(Duration.ofMillis(600));
    fake.gateway =
        m -> GatewayReply.newBuilder().setOutcome(GatewayReply.Outcome.NOT_TAKEN).build();
    fake.server =
        (write, m) ->
            fake.failEveryAttempt(new IOException(new ConnectException("Connection refused")));

    RoostException e = catchThrowableOfType(RoostException.class, () -> client.post("alice", "hi"));

    // A server answered, so it is not "nothing reachable"; and a refusal of one attempt says
    // nothing of another, so the write's outcome is unknown.
    assertThat(e.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
    assertThat(e.outcomeUnknown()).isTrue();
  }

  @Test
  void noServerReachableIsUnavailableNamingThePeersAndTheClientKeepsWorking() {
    client(Duration.ofSeconds(1));
    fake.server =
        (write, m) ->
            fake.failEveryAttempt(
                new IOException(new ConnectException("Connection refused: /127.0.0.1:7001")));
    long start = System.nanoTime();

    RoostException e =
        catchThrowableOfType(RoostException.class, () -> client.registerUser("alice", null));

    // Within the deadline (the policy stops retrying shortly before it), plus scheduling slack.
    assertThat((System.nanoTime() - start) / 1e9).isLessThan(1.3);
    assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE);
    assertThat(e.outcomeUnknown()).as("nothing was sent").isFalse();
    assertThat(e.getMessage()).contains(PEERS).contains("Connection refused");
    // The same client works once a server answers.
    answer(Reply.newBuilder().setUser(User.newBuilder().setHandle("alice")).build());
    assertThat(client.registerUser("alice", null).getHandle()).isEqualTo("alice");
  }

  @Test
  void aWriteWithoutAnAnswerByTheDeadlineHasAnUnknownOutcome() {
    client(Duration.ofMillis(600));
    fake.server = (write, m) -> fake.failEveryAttempt(new TimeoutIOException("timed out"));

    RoostException write =
        catchThrowableOfType(RoostException.class, () -> client.post("alice", "hi"));
    RoostException read =
        catchThrowableOfType(RoostException.class, () -> client.listPosts("alice", 0, null));

    assertThat(write.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
    assertThat(write.outcomeUnknown()).isTrue();
    assertThat(read.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
    assertThat(read.outcomeUnknown()).isFalse();
  }

  @Test
  void withoutALeaderReadsAreUnavailableAndWritesUnknown() {
    client(Duration.ofMillis(600));
    RaftGroupMemberId n1 = RaftGroupMemberId.valueOf(RaftPeerId.valueOf("n1"), Peers.GROUP_ID);
    fake.server = (write, m) -> fake.failEveryAttempt(new NotLeaderException(n1, null, List.of()));

    RoostException read = catchThrowableOfType(RoostException.class, () -> client.getUser("a"));
    RoostException write =
        catchThrowableOfType(RoostException.class, () -> client.follow("a", "b"));

    assertThat(read.code()).isEqualTo(StatusCode.UNAVAILABLE);
    assertThat(read.getMessage()).contains("no leader");
    // A refusal of a retry says nothing about whether an earlier attempt entered the log.
    assertThat(write.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
    assertThat(write.outcomeUnknown()).isTrue();
  }

  @Test
  void aReadAMemberCannotServeNowIsSentAgainAndIsUnavailableOnlyAtTheDeadline() throws Exception {
    client(Duration.ofMillis(600));
    AtomicInteger attempts = new AtomicInteger();
    fake.server =
        (write, m) ->
            attempts.incrementAndGet() == 1
                ? fake.failEveryAttempt(new ReadException("n1 is installing a snapshot"))
                : reply(
                    "n2", Reply.newBuilder().setUser(User.newBuilder().setHandle("alice")).build());

    assertThat(client.getUser("alice").getHandle()).isEqualTo("alice");
    assertThat(fake.reads).hasSize(2);

    fake.server =
        (write, m) -> fake.failEveryAttempt(new ReadException("n1 is installing a snapshot"));

    RoostException e = catchThrowableOfType(RoostException.class, () -> client.getUser("alice"));

    assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE);
    assertThat(e.outcomeUnknown()).isFalse();
    assertThat(e.getMessage()).contains("installing a snapshot");
    assertThat(fake.reads).hasSizeGreaterThan(3);
  }

  @Test
  void aHungCallEndsAtTheDeadlineAndTheClientKeepsWorking() {
    client(Duration.ofMillis(300));
    AtomicBoolean interrupted = new AtomicBoolean();
    fake.server =
        (write, m) -> {
          try {
            Thread.sleep(60_000);
          } catch (InterruptedException e) {
            interrupted.set(true);
          }
          throw new InterruptedIOException("interrupted");
        };
    long start = System.nanoTime();

    RoostException e =
        catchThrowableOfType(RoostException.class, () -> client.kvPut("k", new byte[] {1}));

    assertThat((System.nanoTime() - start) / 1e9).isLessThan(1.0);
    assertThat(e.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
    assertThat(e.outcomeUnknown()).isTrue();
    await().untilTrue(interrupted);
    answer(Reply.newBuilder().setKvEntry(KvEntry.newBuilder().setKey("k")).build());
    assertThat(client.kvPut("k", new byte[] {1}).getKey()).isEqualTo("k");
  }

  @Test
  void theListenerHearsOfEachNewServerButNotTheFirst() {
    client(Duration.ofSeconds(5));
    answer(POSTED);

    client.post("alice", "1");
    assertThat(leaders).isEmpty();

    fake.leader = RaftPeerId.valueOf("n2");
    client.post("alice", "2");
    client.post("alice", "3");

    assertThat(leaders).containsExactly(new Leader("n2", "10.0.0.2:7001"));
  }

  @Test
  void aLateReplyFromAFormerServerIsNotALeaderChange() {
    client(Duration.ofSeconds(5));
    answer(POSTED);
    client.post("alice", "1");

    // Ratis already addresses n2 when an answer from n1 arrives.
    fake.leader = RaftPeerId.valueOf("n2");
    fake.server = (write, m) -> reply("n1", POSTED);
    client.post("alice", "2");

    assertThat(leaders).isEmpty();
  }

  @Test
  void asyncMethodsReportBadInputInTheFutureAndSendNothing() {
    client(Duration.ofSeconds(5));

    CompletableFuture<Post> post = client.postAsync(null, "hi");
    CompletableFuture<FollowResult> follow = client.followAsync("a", null);

    for (CompletableFuture<?> f : List.of(post, follow)) {
      assertThat(f).isCompletedExceptionally();
      RoostException e =
          (RoostException) catchThrowableOfType(CompletionException.class, f::join).getCause();
      assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    }
    assertThat(fake.writes).isEmpty();
  }

  @Test
  void anOversizedRequestIsRefusedBeforeSendingAndUsesNoSequenceNumber() throws Exception {
    client(Duration.ofSeconds(5));
    answer(Reply.newBuilder().setKvEntry(KvEntry.newBuilder().setKey("k")).build());

    RoostException e =
        catchThrowableOfType(
            RoostException.class,
            () -> client.kvPut("k", new byte[RoostClient.MAX_REQUEST_BYTES + 1]));
    client.kvPut("k", new byte[] {1});

    // The code the leader gives an oversized command.
    assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
    assertThat(fake.writes).hasSize(1);
    assertThat(Command.parseFrom(fake.writes.get(0)).getRequestId().getSequence()).isEqualTo(1);
  }

  @Test
  void aReplyWithoutTheExpectedPayloadIsInternalAndForAWriteOfUnknownOutcome() {
    client(Duration.ofSeconds(5));
    answer(Reply.getDefaultInstance());

    RoostException read = catchThrowableOfType(RoostException.class, () -> client.getUser("a"));
    // An OK reply that is not this write's (say another write's, or a batch's) says nothing of
    // whether this one applied.
    RoostException write =
        catchThrowableOfType(RoostException.class, () -> client.post("alice", "hi"));

    assertThat(read.code()).isEqualTo(StatusCode.INTERNAL);
    assertThat(read.outcomeUnknown()).isFalse();
    assertThat(write.code()).isEqualTo(StatusCode.INTERNAL);
    assertThat(write.outcomeUnknown()).isTrue();
  }

  @Test
  void theLastAppliedIndexOnlyGrows() {
    client(Duration.ofSeconds(5));
    KvEntry removed = KvEntry.newBuilder().setKey("k").setVersion(2).build();
    answer(Reply.newBuilder().setAppliedIndex(9).setKvEntry(removed).build());
    assertThat(client.kvDelete("k")).isEqualTo(removed);

    // A read served by a member that is behind does not move it back.
    answer(Reply.newBuilder().setAppliedIndex(5).setKvEntry(removed).build());
    client.kvGet("k");

    assertThat(client.lastAppliedIndex()).isEqualTo(9);
  }

  @Test
  void followerReadsAskAnyMemberForAtLeastTheHighestIndexSeen() {
    client(Duration.ofSeconds(5));
    KvEntry entry = KvEntry.newBuilder().setKey("k").setVersion(1).build();
    answer(Reply.newBuilder().setAppliedIndex(42).setKvEntry(entry).build());
    client.kvPut("k", new byte[] {1});

    RoostClient follower = client.withReadConsistency(ReadConsistency.FOLLOWER);
    follower.kvGet("k");
    follower.kvGet("k");
    RoostClient stale = client.withReadConsistency(ReadConsistency.STALE);
    stale.kvGet("k");

    // Each read starts with the next member, and follower reads wait for index 42.
    assertThat(fake.memberReads).containsExactly("n1@42", "n2@42", "n3@0");
    assertThat(fake.reads).isEmpty();
    assertThat(follower.readConsistency()).isEqualTo(ReadConsistency.FOLLOWER);
    assertThat(client.readConsistency()).isEqualTo(ReadConsistency.LINEARIZABLE);
    assertThat(client.withReadConsistency(ReadConsistency.LINEARIZABLE)).isSameAs(client);
  }

  @Test
  void aClosedClientRefusesCalls() {
    client(Duration.ofSeconds(5));
    client.close();

    RoostException e = catchThrowableOfType(RoostException.class, () -> client.post("a", "b"));

    assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(e.outcomeUnknown()).isFalse();
    assertThat(fake.closed).isTrue();
    assertThat(fake.writes).isEmpty();
  }
}

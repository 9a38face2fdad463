package dev.roost.client;

import static dev.roost.client.FakeTransport.reply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.roost.proto.Command;
import dev.roost.proto.KvEntry;
import dev.roost.proto.Post;
import dev.roost.proto.Query;
import dev.roost.proto.Reply;
import dev.roost.proto.ReplyBatch;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client's batching ({@link Batcher}) against a fake server: the first call is held at the
 * server, so the calls made meanwhile must wait and go out together in one request.
 */
class BatchingTest {
  private final CountDownLatch release = new CountDownLatch(1);
  private FakeTransport fake;
  private RoostClient client;

  @AfterEach
  void close() {
    release.countDown();
    if (client != null) {
      client.close();
    }
  }

  /** A client with one request in flight at most, whose server answers as {@code answer} says. */
  private void start(Duration deadline, Function<Command, Reply> answer) {
    client =
        RoostClient.builder()
            .peers("n1=127.0.0.1:7001")
            .deadline(deadline)
            .batchesInFlight(1)
            .batchSize(32)
            .build(retry -> fake = new FakeTransport(retry));
    fake.server =
        (write, message) -> {
          awaitRelease();
          return reply("n1", write ? answerWrite(message, answer) : answerRead(message));
        };
  }

  private void awaitRelease() throws IOException {
    try {
      if (!release.await(10, TimeUnit.SECONDS)) {
        throw new IOException("test never released the server");
      }
    } catch (InterruptedException e) {
      throw new java.io.InterruptedIOException("interrupted");
    }
  }

  private static Reply answerWrite(Message message, Function<Command, Reply> answer)
      throws IOException {
    Command command = Command.parseFrom(message.getContent().toByteArray());
    if (!command.hasBatch()) {
      return answer.apply(command);
    }
    ReplyBatch.Builder replies = ReplyBatch.newBuilder();
    command.getBatch().getCommandsList().forEach(c -> replies.addReplies(answer.apply(c)));
    return Reply.newBuilder().setBatch(replies).build();
  }

  private static Reply answerRead(Message message) throws IOException {
    Query query = Query.parseFrom(message.getContent().toByteArray());
    List<Query> queries = query.hasBatch() ? query.getBatch().getQueriesList() : List.of(query);
    List<Reply> replies = new ArrayList<>();
    for (Query q : queries) {
      String key = q.getKvGet().getKey();
      replies.add(
          Reply.newBuilder().setKvEntry(KvEntry.newBuilder().setKey(key).setVersion(1)).build());
    }
    return query.hasBatch()
        ? Reply.newBuilder().setBatch(ReplyBatch.newBuilder().addAllReplies(replies)).build()
        : replies.get(0);
  }

  /** A post whose id is the request's sequence number, so each caller can tell its own reply. */
  private static Reply posted(Command c) {
    long seq = c.getRequestId().getSequence();
    return Reply.newBuilder()
        .setAppliedIndex(100)
        .setPost(Post.newBuilder().setId(seq).setText(c.getCreatePost().getText()))
        .build();
  }

  private static Command sent(byte[] bytes) throws IOException {
    return Command.parseFrom(bytes);
  }

  @Test
  void writesMadeWhileARequestIsOutstandingGoOutTogetherEachWithItsOwnIdAndReply()
      throws Exception {
    start(Duration.ofSeconds(10), BatchingTest::posted);

    CompletableFuture<Post> first = client.postAsync("alice", "p1");
    awaitWrites(1);
    List<CompletableFuture<Post>> waiting = new ArrayList<>();
    for (int i = 2; i <= 6; i++) {
      waiting.add(client.postAsync("alice", "p" + i));
    }
    release.countDown();

    assertThat(first.get(5, TimeUnit.SECONDS).getText()).isEqualTo("p1");
    for (int i = 0; i < waiting.size(); i++) {
      Post post = waiting.get(i).get(5, TimeUnit.SECONDS);
      assertThat(post.getText()).isEqualTo("p" + (i + 2));
      assertThat(post.getId()).as("its own request id").isEqualTo(i + 2);
    }
    assertThat(fake.writes).hasSize(2);
    assertThat(sent(fake.writes.get(0)).hasBatch()).as("an idle client sends alone").isFalse();
    Command batch = sent(fake.writes.get(1));
    assertThat(batch.hasRequestId()).as("the envelope has no request id").isFalse();
    assertThat(batch.getBatch().getCommandsList())
        .extracting(c -> c.getRequestId().getSequence())
        .containsExactly(2L, 3L, 4L, 5L, 6L);
    assertThat(client.lastAppliedIndex()).isEqualTo(100);
  }

  @Test
  void anErrorForOneWriteOfABatchFailsOnlyThatCall() throws Exception {
    start(
        Duration.ofSeconds(10),
        c ->
            c.getCreatePost().getText().equals("bad")
                ? Reply.newBuilder()
                    .setCode(StatusCode.INVALID_ARGUMENT)
                    .setMessage("post is blank")
                    .build()
                : posted(c));

    CompletableFuture<Post> first = client.postAsync("alice", "p1");
    awaitWrites(1);
    CompletableFuture<Post> good = client.postAsync("alice", "good");
    CompletableFuture<Post> bad = client.postAsync("alice", "bad");
    CompletableFuture<Post> alsoGood = client.postAsync("alice", "also good");
    release.countDown();

    first.get(5, TimeUnit.SECONDS);
    assertThat(good.get(5, TimeUnit.SECONDS).getText()).isEqualTo("good");
    assertThat(alsoGood.get(5, TimeUnit.SECONDS).getText()).isEqualTo("also good");
    RoostException e = failure(bad);
    assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(e.getMessage()).isEqualTo("post is blank");
    assertThat(e.outcomeUnknown()).isFalse();
  }

  @Test
  void aBatchWithoutAnAnswerFailsEveryWriteInItWithAnUnknownOutcome() throws Exception {
    client =
        RoostClient.builder()
            .peers("n1=127.0.0.1:7001")
            .deadline(Duration.ofSeconds(1))
            .batchesInFlight(1)
            .build(retry -> fake = new FakeTransport(retry));
    CountDownLatch firstArrived = new CountDownLatch(1);
    fake.server =
        (write, message) -> {
          if (!sent(message.getContent().toByteArray()).hasBatch()) {
            firstArrived.countDown();
            awaitRelease();
            return reply("n1", posted(sent(message.getContent().toByteArray())));
          }
          return fake.failEveryAttempt(new TimeoutIOException("no answer"));
        };

    CompletableFuture<Post> first = client.postAsync("alice", "p1");
    assertThat(firstArrived.await(5, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Post> a = client.postAsync("alice", "a");
    CompletableFuture<Post> b = client.postAsync("alice", "b");
    release.countDown();

    first.get(5, TimeUnit.SECONDS);
    for (CompletableFuture<Post> call : List.of(a, b)) {
      RoostException e = failure(call);
      assertThat(e.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
      assertThat(e.outcomeUnknown()).isTrue();
      assertThat(e.getMessage()).contains("in a batch of 2");
    }
  }

  @Test
  void readsMadeWhileAReadIsOutstandingShareOneRequest() throws Exception {
    start(Duration.ofSeconds(10), BatchingTest::posted);

    CompletableFuture<KvEntry> first = client.kvGetAsync("k0");
    awaitReads(1);
    List<CompletableFuture<KvEntry>> waiting = new ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      waiting.add(client.kvGetAsync("k" + i));
    }
    release.countDown();

    assertThat(first.get(5, TimeUnit.SECONDS).getKey()).isEqualTo("k0");
    for (int i = 0; i < waiting.size(); i++) {
      assertThat(waiting.get(i).get(5, TimeUnit.SECONDS).getKey()).isEqualTo("k" + (i + 1));
    }
    assertThat(fake.reads).hasSize(2);
    assertThat(Query.parseFrom(fake.reads.get(1)).getBatch().getQueriesCount()).isEqualTo(4);
  }

  @Test
  void batchSizeOneSendsEveryCallAlone() throws Exception {
    client =
        RoostClient.builder()
            .peers("n1=127.0.0.1:7001")
            .batchesInFlight(1)
            .batchSize(1)
            .build(retry -> fake = new FakeTransport(retry));
    fake.server =
        (write, message) -> {
          awaitRelease();
          return reply("n1", posted(sent(message.getContent().toByteArray())));
        };

    List<CompletableFuture<Post>> calls = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      calls.add(client.postAsync("alice", "p" + i));
    }
    release.countDown();

    for (CompletableFuture<Post> call : calls) {
      call.get(5, TimeUnit.SECONDS);
    }
    assertThat(fake.writes).hasSize(4);
    for (byte[] w : fake.writes) {
      assertThat(sent(w).hasBatch()).isFalse();
    }
  }

  @Test
  void closingTheClientFailsTheCallsStillWaitingAsNotSent() throws Exception {
    start(Duration.ofSeconds(10), BatchingTest::posted);

    client.postAsync("alice", "p1");
    awaitWrites(1);
    CompletableFuture<Post> waiting = client.postAsync("alice", "p2");
    client.close();

    RoostException e = failure(waiting);
    assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(e.outcomeUnknown()).isFalse();
    assertThat(e.getMessage()).contains("closed").contains("not sent");
  }

  private void awaitWrites(int n) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (fake.writes.size() < n && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    assertThat(fake.writes).hasSize(n);
  }

  private void awaitReads(int n) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (fake.reads.size() < n && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    assertThat(fake.reads).hasSize(n);
  }

  private static RoostException failure(CompletableFuture<?> call) {
    CompletionException e = catchThrowableOfType(CompletionException.class, call::join);
    assertThat(e).as("the call should have failed").isNotNull();
    assertThat(e.getCause()).isInstanceOf(RoostException.class);
    return (RoostException) e.getCause();
  }
}

package dev.roost.statemachine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.roost.api.Peers;
import dev.roost.api.RejectedCommandException;
import dev.roost.proto.Command;
import dev.roost.proto.CommandBatch;
import dev.roost.proto.CreatePost;
import dev.roost.proto.Follow;
import dev.roost.proto.GetTimeline;
import dev.roost.proto.GetUser;
import dev.roost.proto.KvPut;
import dev.roost.proto.ListPosts;
import dev.roost.proto.OpenSession;
import dev.roost.proto.Query;
import dev.roost.proto.QueryBatch;
import dev.roost.proto.RegisterUser;
import dev.roost.proto.Reply;
import dev.roost.proto.RequestId;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real three-peer Ratis group over gRPC on loopback, in this JVM, running {@link
 * RoostStateMachine}. It checks what only a real group shows: replication to every member, refusal
 * before the log, and a restart from snapshot plus log (also past a corrupt snapshot).
 */
class RoostStateMachineIT {
  @TempDir Path dir;
  private InJvmGroup cluster;
  private RaftClient client;
  private long session;
  private long sequence;

  @BeforeEach
  void startGroup() throws IOException {
    cluster =
        InJvmGroup.start(
            dir, 3, p -> RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2), InJvmGroup.PLAIN);
    client =
        RaftClient.newBuilder()
            .setRaftGroup(cluster.group())
            .setProperties(new RaftProperties())
            .setRetryPolicy(
                RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                    100, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
            .build();
    session = openSession(client);
  }

  /** Opens a session through the log and returns its id. */
  private static long openSession(RaftClient client) throws IOException {
    RaftClientReply reply =
        client
            .io()
            .send(
                message(
                    Command.newBuilder()
                        .setOpenSession(OpenSession.getDefaultInstance())
                        .build()
                        .toByteArray()));
    Reply opened = Reply.parseFrom(reply.getMessage().getContent().toByteArray());
    assertThat(opened.getCode()).isEqualTo(StatusCode.OK);
    return opened.getSession().getId();
  }

  private RequestId.Builder nextId() {
    ++sequence;
    return RequestId.newBuilder()
        .setSession(session)
        .setSequence(sequence)
        .setFirstUnanswered(sequence);
  }

  @AfterEach
  void stopGroup() throws IOException {
    client.close();
    cluster.close();
  }

  private RoostStateMachine stateMachine(int i) throws IOException {
    return cluster.stateMachine(i);
  }

  private Reply write(Command.Builder command) throws IOException {
    command.setRequestId(nextId());
    RaftClientReply reply = client.io().send(message(command.build().toByteArray()));
    if (!reply.isSuccess()) {
      throw reply.getException();
    }
    return Reply.parseFrom(reply.getMessage().getContent().toByteArray());
  }

  /** Sends {@code writes}, each with the next request id, as one batch: one log entry. */
  private Reply writeBatch(Command.Builder... writes) throws IOException {
    CommandBatch.Builder batch = CommandBatch.newBuilder();
    for (Command.Builder w : writes) {
      batch.addCommands(w.setRequestId(nextId()));
    }
    RaftClientReply reply =
        client.io().send(message(Command.newBuilder().setBatch(batch).build().toByteArray()));
    if (!reply.isSuccess()) {
      throw reply.getException();
    }
    return Reply.parseFrom(reply.getMessage().getContent().toByteArray());
  }

  private static Command.Builder post(String author, String text) {
    return Command.newBuilder()
        .setCreatePost(CreatePost.newBuilder().setAuthor(author).setText(text));
  }

  private static List<Long> postIds(Reply batch) {
    return batch.getBatch().getRepliesList().stream()
        .filter(Reply::hasPost)
        .map(r -> r.getPost().getId())
        .toList();
  }

  private Reply read(Query query) throws IOException {
    RaftClientReply reply = client.io().sendReadOnly(message(query.toByteArray()));
    return Reply.parseFrom(reply.getMessage().getContent().toByteArray());
  }

  private static Message message(byte[] bytes) {
    return Message.valueOf(ByteString.copyFrom(bytes));
  }

  private void writeSomeData(String prefix, int posts) throws IOException {
    write(Command.newBuilder().setRegisterUser(RegisterUser.newBuilder().setHandle(prefix + "a")));
    write(Command.newBuilder().setRegisterUser(RegisterUser.newBuilder().setHandle(prefix + "b")));
    write(
        Command.newBuilder()
            .setFollow(Follow.newBuilder().setFollower(prefix + "a").setFollowee(prefix + "b")));
    for (int i = 0; i < posts; i++) {
      write(
          Command.newBuilder()
              .setCreatePost(CreatePost.newBuilder().setAuthor(prefix + "b").setText("post " + i)));
    }
    write(
        Command.newBuilder()
            .setKvPut(
                KvPut.newBuilder()
                    .setKey(prefix)
                    .setValue(com.google.protobuf.ByteString.copyFromUtf8("v"))));
  }

  private void awaitSameStateEverywhere() {
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              String expected = stateMachine(0).digest().sha256();
              for (int i = 1; i < 3; i++) {
                if (cluster.server(i) != null) {
                  assertThat(stateMachine(i).digest().sha256()).isEqualTo(expected);
                }
              }
              assertThat(stateMachine(0).digest().posts()).isPositive();
            });
  }

  @Test
  void writesReachEveryMemberAndReadsSeeThem() throws IOException {
    writeSomeData("abc", 5);
    awaitSameStateEverywhere();

    Reply timeline =
        read(Query.newBuilder().setGetTimeline(GetTimeline.newBuilder().setHandle("abca")).build());
    assertThat(timeline.getCode()).isEqualTo(StatusCode.OK);
    assertThat(timeline.getPostPage().getPostsList()).hasSize(5);
    assertThat(timeline.getPostPage().getPosts(0).getText()).isEqualTo("post 4");
    assertThat(timeline.getAppliedIndex()).isPositive();
  }

  @Test
  void invalidInputIsRefusedBeforeTheLogAndNeverApplied() throws IOException {
    writeSomeData("xyz", 1);
    awaitSameStateEverywhere();
    long applied = stateMachine(0).appliedIndex();

    Command bad =
        Command.newBuilder()
            .setRequestId(nextId())
            .setRegisterUser(RegisterUser.newBuilder().setHandle("no spaces allowed"))
            .build();
    RejectedCommandException rejected = rejection(bad.toByteArray());
    assertThat(rejected.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(rejected.detail()).contains("bad handle");
    assertThat(rejection(new byte[] {(byte) 0xFF, 0x01}).code())
        .isEqualTo(StatusCode.INVALID_ARGUMENT);

    // Nothing entered the log: a valid write lands right after the last one.
    Reply next = write(Command.newBuilder().setKvPut(KvPut.newBuilder().setKey("after")));
    assertThat(next.getKvEntry().getModRevision()).isEqualTo(applied + 1);
  }

  @Test
  void restartedMemberReloadsItsSnapshotAndLogAndSkipsACorruptSnapshot() throws Exception {
    writeSomeData("one", 20);
    awaitSameStateEverywhere();
    RaftPeerId lagger = cluster.peers().get(2).getId();
    assertThat(client.getSnapshotManagementApi(lagger).create(true, 10_000).isSuccess()).isTrue();
    writeSomeData("two", 20);
    awaitSameStateEverywhere();
    assertThat(client.getSnapshotManagementApi(lagger).create(true, 10_000).isSuccess()).isTrue();
    writeSomeData("three", 5);
    awaitSameStateEverywhere();
    // A third snapshot: only the two newest are kept.
    assertThat(client.getSnapshotManagementApi(lagger).create(true, 10_000).isSuccess()).isTrue();
    writeSomeData("four", 2);
    awaitSameStateEverywhere();
    String expected = stateMachine(0).digest().sha256();

    cluster.stop(2);
    Path smDir;
    try (Stream<Path> files = Files.walk(dir.resolve("n2"))) {
      List<Path> snapshots =
          files
              .filter(p -> p.getFileName().toString().matches("snapshot\\.\\d+_\\d+"))
              .sorted()
              .toList();
      assertThat(snapshots).hasSize(2);
      Path newest =
          snapshots.stream().max((a, b) -> Long.compare(indexOf(a), indexOf(b))).orElseThrow();
      smDir = newest.getParent();
      try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
        f.seek(f.length() / 2);
        f.write(f.read() ^ 0x55);
      }
    }

    cluster.restart(2);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(stateMachine(2).digest().sha256()).isEqualTo(expected));
    try (Stream<Path> files = Files.list(smDir)) {
      assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.endsWith(".corrupt"));
    }

    writeSomeData("five", 3);
    awaitSameStateEverywhere();
  }

  @Test
  void batchesReachEveryMemberAndKeepPostIdsUniqueAfterARestartFromSnapshot() throws Exception {
    // One entry: a registration and 30 posts, whose ids run from the entry's index on.
    List<Command.Builder> writes = new ArrayList<>();
    writes.add(
        Command.newBuilder().setRegisterUser(RegisterUser.newBuilder().setHandle("batcher")));
    for (int i = 0; i < 30; i++) {
      writes.add(post("batcher", "p" + i));
    }
    Reply first = writeBatch(writes.toArray(Command.Builder[]::new));
    assertThat(first.getBatch().getRepliesList())
        .extracting(Reply::getCode)
        .containsOnly(StatusCode.OK);
    List<Long> firstIds = postIds(first);
    long entry = first.getAppliedIndex();
    assertThat(firstIds).hasSize(30).isSorted().doesNotHaveDuplicates().startsWith(entry);
    assertThat(firstIds.get(29)).isEqualTo(entry + 29);
    awaitSameStateEverywhere();

    // A follower snapshots right after that entry and restarts from the snapshot. The next
    // entries' indexes are ids the batch already took (30 of them, so that the few entries Ratis
    // adds itself cannot move past them): the follower must know that from the snapshot alone.
    int f = cluster.server(0).getDivision(Peers.GROUP_ID).getInfo().isLeader() ? 1 : 0;
    assertThat(client.getSnapshotManagementApi(cluster.peers().get(f).getId()).create(true, 10_000))
        .matches(RaftClientReply::isSuccess);
    cluster.restart(f);

    Reply second = writeBatch(post("batcher", "late0"), post("batcher", "late1"));
    assertThat(second.getAppliedIndex()).isLessThan(entry + 29);
    List<Long> secondIds = postIds(second);
    assertThat(secondIds).containsExactly(entry + 30, entry + 31);
    // The same ids, hence the same digest, on the restarted member as on the others.
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              for (int i = 0; i < 3; i++) {
                assertThat(stateMachine(i).appliedIndex())
                    .isGreaterThanOrEqualTo(second.getAppliedIndex());
              }
            });
    awaitSameStateEverywhere();

    // One read batch: both answered from one state, each with its own outcome.
    Reply read =
        read(
            Query.newBuilder()
                .setBatch(
                    QueryBatch.newBuilder()
                        .addQueries(
                            Query.newBuilder()
                                .setListPosts(ListPosts.newBuilder().setAuthor("batcher")))
                        .addQueries(
                            Query.newBuilder().setGetUser(GetUser.newBuilder().setHandle("ghost"))))
                .build());
    assertThat(read.getBatch().getRepliesList())
        .extracting(Reply::getCode)
        .containsExactly(StatusCode.OK, StatusCode.NOT_FOUND);
    assertThat(read.getBatch().getReplies(0).getPostPage().getPostsList())
        .extracting(dev.roost.proto.Post::getId)
        .startsWith(entry + 31, entry + 30, entry + 29);
  }

  /** Sends a write that the leader must refuse, and returns the refusal. */
  private RejectedCommandException rejection(byte[] command) {
    Throwable thrown = catchThrowable(() -> client.io().send(message(command)));
    assertThat(thrown).isInstanceOf(StateMachineException.class);
    assertThat(thrown.getCause()).isInstanceOf(RejectedCommandException.class);
    return (RejectedCommandException) thrown.getCause();
  }

  private static long indexOf(Path snapshot) {
    String name = snapshot.getFileName().toString();
    return Long.parseLong(name.substring(name.indexOf('_') + 1));
  }
}

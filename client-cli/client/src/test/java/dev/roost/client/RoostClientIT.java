package dev.roost.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.Peers;
import dev.roost.proto.Command;
import dev.roost.proto.KvEntry;
import dev.roost.proto.Post;
import dev.roost.proto.PostPage;
import dev.roost.proto.StatusCode;
import dev.roost.server.RoostGrpcServices;
import dev.roost.statemachine.InJvmGroup;
import dev.roost.statemachine.RoostStateMachine;
import dev.roost.testkit.LoopbackPorts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.util.CodeInjectionForTesting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RoostClient} against a real three-peer Ratis group over gRPC on loopback, in this JVM,
 * running {@link RoostStateMachine}: the typed API end to end, exactly-once across a leader's
 * death, failure within the deadline, and a client that keeps working after failed calls.
 */
class RoostClientIT {
  /** Ratis' injection point at the start of a follower's appendEntries handling. */
  private static final String APPEND_ENTRIES = "RaftServerImpl.appendEntries";

  @TempDir Path dir;
  private InJvmGroup cluster;
  private List<RaftPeer> peers;
  private final List<RoostClient> clients = new ArrayList<>();
  private final CountDownLatch serverClosed = new CountDownLatch(1);

  /** As roost-server runs it, with the write gateway. */
  private static final InJvmGroup.ServerFactory WITH_GATEWAY = RoostGrpcServices::build;

  @BeforeEach
  void startGroup() throws IOException {
    cluster = InJvmGroup.start(dir, 3, p -> {}, WITH_GATEWAY);
    peers = cluster.peers();
  }

  @AfterEach
  void stopGroup() throws IOException {
    CodeInjectionForTesting.remove(APPEND_ENTRIES);
    clients.forEach(RoostClient::close);
    cluster.close();
  }

  @Test
  void registersFollowsPostsAndReadsTimelines() {
    RoostClient client = client(peers, Duration.ofSeconds(10), leader -> {});

    client.registerUser("alice", "Alice");
    client.registerUser("bob", null);
    assertThat(client.follow("alice", "bob").getChanged()).isTrue();
    assertThat(client.follow("alice", "bob").getChanged()).as("following twice").isFalse();
    Post first = client.post("bob", "first");
    Post second = client.post("alice", "second");

    PostPage timeline = client.timeline("alice", 10, null);
    assertThat(timeline.getPostsList())
        .extracting(Post::getText)
        .containsExactly("second", "first");
    assertThat(second.getId()).isGreaterThan(first.getId());
    assertThat(client.getUser("alice").getFollowingCount()).isEqualTo(1);
    assertThat(client.listFollowers("bob", 0, null).getUsersList()).hasSize(1);
    assertThat(client.listUsers("", 0, null).getUsersList()).hasSize(2);
    assertThat(client.lastAppliedIndex()).isGreaterThanOrEqualTo(second.getId());
    // Domain outcomes arrive as codes.
    assertThat(catchThrowableOfType(RoostException.class, () -> client.getUser("carol")).code())
        .isEqualTo(StatusCode.NOT_FOUND);
    assertThat(
            catchThrowableOfType(RoostException.class, () -> client.registerUser("alice", null))
                .code())
        .isEqualTo(StatusCode.ALREADY_EXISTS);
    // Refused on the leader before the log.
    RoostException bad =
        catchThrowableOfType(RoostException.class, () -> client.registerUser("no spaces", null));
    assertThat(bad.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(bad.outcomeUnknown()).isFalse();
  }

  @Test
  void keyValueMapWithCompareAndSet() {
    RoostClient client = client(peers, Duration.ofSeconds(10), leader -> {});

    KvEntry put = client.kvPut("color", bytes("red"));
    KvEntry swapped = client.kvCompareAndSetValue("color", bytes("red"), bytes("blue"));
    RoostException stale =
        catchThrowableOfType(
            RoostException.class,
            () -> client.kvCompareAndSetVersion("color", put.getVersion(), bytes("green")));

    assertThat(swapped.getVersion()).isEqualTo(put.getVersion() + 1);
    assertThat(stale.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(stale.reply().orElseThrow().getKvEntry().getVersion())
        .isEqualTo(swapped.getVersion());
    assertThat(client.kvGet("color").getValue().toStringUtf8()).isEqualTo("blue");
    assertThat(client.kvList("co", 0, null).getEntriesCount()).isEqualTo(1);
    assertThat(client.kvDelete("color").getKey()).isEqualTo("color");
    assertThat(catchThrowableOfType(RoostException.class, () -> client.kvGet("color")).code())
        .isEqualTo(StatusCode.NOT_FOUND);
    assertThat(client.stateDigest().getKeys()).isZero();
  }

  @Test
  void concurrentCallsOfOneClientShareLogEntriesAndEachGetsItsOwnReply() throws Exception {
    RoostClient client = client(peers, Duration.ofSeconds(20), leader -> {});
    client.registerUser("alice", null);
    long before = client.kvPut("start", bytes("0")).getModRevision();

    int posts = 300;
    List<CompletableFuture<Post>> posted = new ArrayList<>();
    List<CompletableFuture<KvEntry>> puts = new ArrayList<>();
    List<CompletableFuture<Post>> blank = new ArrayList<>();
    for (int i = 0; i < posts; i++) {
      posted.add(client.postAsync("alice", "post " + i));
      puts.add(client.kvPutAsync("k" + (i % 7), bytes("v" + i)));
      if (i % 50 == 0) {
        blank.add(client.postAsync("alice", "   "));
      }
    }
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < posts; i++) {
      Post post = posted.get(i).get(30, TimeUnit.SECONDS);
      assertThat(post.getText()).isEqualTo("post " + i);
      ids.add(post.getId());
      puts.get(i).get(30, TimeUnit.SECONDS);
    }
    for (CompletableFuture<Post> call : blank) {
      ExecutionException e = catchThrowableOfType(ExecutionException.class, call::get);
      assertThat(((RoostException) e.getCause()).code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    }
    long after = client.kvPut("end", bytes("0")).getModRevision();

    assertThat(ids).doesNotHaveDuplicates().allMatch(id -> id > before);
    assertThat(after - before)
        .as(
            "%d writes took %d log entries: they must have shared entries",
            2 * posts, after - before)
        .isLessThan(posts);
    List<Post> listed = client.allPosts("alice").toList();
    assertThat(listed).extracting(Post::getId).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(listed).extracting(Post::getId).isSortedAccordingTo(Comparator.reverseOrder());

    List<CompletableFuture<KvEntry>> gets = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      gets.add(client.kvGetAsync("k" + (i % 7)));
    }
    for (int i = 0; i < 100; i++) {
      assertThat(gets.get(i).get(30, TimeUnit.SECONDS).getKey()).isEqualTo("k" + (i % 7));
    }
  }

  @Test
  void separateClientsShareLogEntriesThroughTheLeadersGatewayAndEachGetsItsOwnReply()
      throws Exception {
    RoostClient first = client(peers, Duration.ofSeconds(20), leader -> {});
    long before = first.kvPut("start", bytes("0")).getModRevision();
    int clients = 16;
    int putsEach = 25;
    ExecutorService callers = Executors.newFixedThreadPool(clients);
    try {
      List<Future<List<Long>>> revisions = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        RoostClient client = client(peers, Duration.ofSeconds(20), leader -> {});
        String prefix = "c" + c + "/";
        revisions.add(
            callers.submit(
                () -> {
                  List<Long> mine = new ArrayList<>();
                  for (int i = 0; i < putsEach; i++) {
                    KvEntry put = client.kvPut(prefix + i, bytes(prefix + i));
                    assertThat(put.getKey()).isEqualTo(prefix + i);
                    mine.add(put.getModRevision());
                  }
                  // Refused on its own, whoever shared its entry.
                  RoostException bad =
                      catchThrowableOfType(
                          RoostException.class, () -> client.kvPut("", bytes("x")));
                  assertThat(bad.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
                  return mine;
                }));
      }
      for (Future<List<Long>> mine : revisions) {
        assertThat(mine.get(60, TimeUnit.SECONDS)).isSorted().allMatch(r -> r > before);
      }
    } finally {
      callers.shutdownNow();
    }
    long after = first.kvPut("end", bytes("0")).getModRevision();

    assertThat(after - before)
        .as(
            "%d writes of %d separate clients took %d log entries: they must have shared entries",
            clients * putsEach, clients, after - before)
        .isLessThan(clients * putsEach / 2);
    for (int c = 0; c < clients; c++) {
      assertThat(first.kvGet("c" + c + "/" + (putsEach - 1)).getValue().toStringUtf8())
          .isEqualTo("c" + c + "/" + (putsEach - 1));
    }
  }

  @Test
  void writesGoAsRatisRequestsToServersWithoutTheGateway() throws IOException {
    RoostClient client = client(peers, Duration.ofSeconds(10), leader -> {});
    client.registerUser("alice", null);
    cluster.factory(InJvmGroup.PLAIN);
    for (int i = 0; i < 3; i++) {
      cluster.restart(i);
    }

    assertThat(client.post("alice", "after the restart").getText()).isEqualTo("after the restart");
    RoostClient fresh = client(peers, Duration.ofSeconds(10), leader -> {});
    assertThat(fresh.kvPut("k", bytes("v")).getVersion()).isEqualTo(1);
    RoostException bad =
        catchThrowableOfType(RoostException.class, () -> fresh.registerUser("no spaces", null));
    assertThat(bad.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(fresh.listPosts("alice", 0, null).getPostsList()).hasSize(1);
  }

  @Test
  void aClientGivenOneFollowerFindsTheLeader() {
    RoostClient warmUp = client(peers, Duration.ofSeconds(10), leader -> {});
    warmUp.registerUser("alice", null);
    int follower = (leaderIndex() + 1) % 3;

    RoostClient client = client(List.of(peers.get(follower)), Duration.ofSeconds(10), l -> {});

    assertThat(client.post("alice", "via a follower").getAuthor()).isEqualTo("alice");
  }

  @Test
  void aPostWhoseLeaderDiesBeforeReplyingIsAppliedExactlyOnce() throws Exception {
    List<Leader> changes = new CopyOnWriteArrayList<>();
    RoostClient client = client(peers, Duration.ofSeconds(15), changes::add);
    client.registerUser("alice", null);
    int leader = leaderIndex();
    String leaderId = peers.get(leader).getId().toString();

    // When a follower receives the post from the leader, the leader dies. The followers wait
    // until it is gone before they store and acknowledge the entry, so the leader can neither
    // commit it nor reply: the post sits, unacknowledged, in the logs of the two survivors.
    AtomicBoolean fired = new AtomicBoolean();
    CodeInjectionForTesting.put(
        APPEND_ENTRIES,
        (localId, remoteId, args) -> {
          if (!remoteId.toString().equals(leaderId)
              || !carriesAWriteOf(client, (AppendEntriesRequestProto) args[1])) {
            return false;
          }
          if (fired.compareAndSet(false, true)) {
            new Thread(() -> closeServer(leader), "kill-leader").start();
          }
          try {
            serverClosed.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return true;
        });

    Post post = client.post("alice", "only once");

    assertThat(fired).as("the leader was killed mid-write").isTrue();
    // The client re-sent the post to the new leader with the same request id; the new leader had
    // committed the entry of the old term and the state machine answered with its first reply.
    List<Post> posts = client.listPosts("alice", 0, null).getPostsList();
    assertThat(posts).extracting(Post::getText).containsExactly("only once");
    assertThat(posts.get(0).getId()).isEqualTo(post.getId());
    assertThat(changes).hasSize(1);
    assertThat(changes.get(0).id()).isNotEqualTo(leaderId);
    assertThat(changes.get(0).address())
        .isEqualTo(peers.get(Integer.parseInt(changes.get(0).id().substring(1))).getAddress());

    // The dead member comes back and catches up to the same state.
    CodeInjectionForTesting.remove(APPEND_ENTRIES);
    assertThat(serverClosed.await(20, TimeUnit.SECONDS)).as("the old leader closed").isTrue();
    cluster.restart(leader);
    String digest = client.stateDigest().getSha256();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> assertThat(cluster.stateMachine(leader).digest().sha256()).isEqualTo(digest));
  }

  @Test
  void aWrongPeerListFailsUnavailableWithinTheDeadline() throws IOException {
    List<RaftPeer> nobody = List.of(loopbackPeer("x1"), loopbackPeer("x2"));
    RoostClient client = client(nobody, Duration.ofSeconds(2), leader -> {});

    for (Runnable call :
        List.<Runnable>of(() -> client.post("alice", "hi"), () -> client.listUsers("", 0, ""))) {
      long start = System.nanoTime();
      RoostException e = catchThrowableOfType(RoostException.class, call::run);
      double seconds = (System.nanoTime() - start) / 1e9;

      assertThat(seconds).as("deadline 2 s").isLessThanOrEqualTo(2.5);
      assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE);
      assertThat(e.outcomeUnknown()).as("nothing reached a server").isFalse();
      assertThat(e.getMessage()).contains(Peers.format(nobody));
    }
  }

  @Test
  void theClientKeepsWorkingAfterCallsThatFailed() throws IOException {
    RoostClient client = client(peers, Duration.ofSeconds(2), leader -> {});
    client.registerUser("alice", null);
    int leader = leaderIndex();
    int follower = (leader + 1) % 3;

    // Two of three members down: no majority, so no leader.
    closeServer(leader);
    closeServer(follower);
    long start = System.nanoTime();
    RoostException write =
        catchThrowableOfType(RoostException.class, () -> client.post("alice", "lost?"));
    RoostException read = catchThrowableOfType(RoostException.class, () -> client.getUser("alice"));

    assertThat((System.nanoTime() - start) / 1e9).as("two 2 s deadlines").isLessThanOrEqualTo(5.0);
    // Ratis tries the peers in random order: if the write reached the survivor (which refuses
    // it: it knows no leader) it may have entered an old log, else it was never sent.
    if (write.code() == StatusCode.UNAVAILABLE) {
      assertThat(write.outcomeUnknown()).as("never sent: %s", write).isFalse();
    } else {
      assertThat(write.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
      assertThat(write.outcomeUnknown()).as("sent: %s", write).isTrue();
    }
    assertThat(read.code()).isIn(StatusCode.UNAVAILABLE, StatusCode.DEADLINE_EXCEEDED);
    assertThat(read.outcomeUnknown()).isFalse();

    // A majority again: the same client (not a new one) serves calls.
    cluster.restart(follower);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreException(RoostException.class)
        .until(() -> client.post("alice", "back").getText().equals("back"));
    assertThat(client.getUser("alice").getHandle()).isEqualTo("alice");
  }

  // ---- helpers ----

  private void closeServer(int i) {
    try {
      cluster.stop(i);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } finally {
      serverClosed.countDown();
    }
  }

  /** Whether an entry of {@code request} carries a write of {@code client}, alone or batched. */
  private static boolean carriesAWriteOf(RoostClient client, AppendEntriesRequestProto request) {
    for (LogEntryProto entry : request.getEntriesList()) {
      if (!entry.hasStateMachineLogEntry()) {
        continue;
      }
      Command command;
      try {
        command = Command.parseFrom(entry.getStateMachineLogEntry().getLogData().toByteArray());
      } catch (InvalidProtocolBufferException e) {
        continue;
      }
      List<Command> writes =
          command.hasBatch() ? command.getBatch().getCommandsList() : List.of(command);
      if (writes.stream().anyMatch(w -> w.getRequestId().getSession() == client.sessionId())) {
        return true;
      }
    }
    return false;
  }

  private RoostClient client(
      List<RaftPeer> peerList, Duration deadline, Consumer<Leader> listener) {
    RoostClient client =
        RoostClient.builder().peers(peerList).deadline(deadline).onLeaderChange(listener).build();
    clients.add(client);
    return client;
  }

  private int leaderIndex() {
    int[] found = {-1};
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              for (int i = 0; i < 3; i++) {
                if (cluster.isLeaderReady(i)) {
                  found[0] = i;
                  return true;
                }
              }
              return false;
            });
    return found[0];
  }

  private static RaftPeer loopbackPeer(String id) {
    return RaftPeer.newBuilder().setId(id).setAddress("127.0.0.1:" + LoopbackPorts.one()).build();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}

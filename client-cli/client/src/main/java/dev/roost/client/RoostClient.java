package dev.roost.client;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.Peers;
import dev.roost.api.WireLimits;
import dev.roost.client.ClientRetry.Kind;
import dev.roost.proto.Command;
import dev.roost.proto.CommandBatch;
import dev.roost.proto.FollowResult;
import dev.roost.proto.KvEntry;
import dev.roost.proto.KvPage;
import dev.roost.proto.OpenSession;
import dev.roost.proto.Post;
import dev.roost.proto.PostPage;
import dev.roost.proto.Query;
import dev.roost.proto.QueryBatch;
import dev.roost.proto.Reply;
import dev.roost.proto.RequestId;
import dev.roost.proto.Session;
import dev.roost.proto.StateDigest;
import dev.roost.proto.StatusCode;
import dev.roost.proto.User;
import dev.roost.proto.UserPage;
import java.io.IOException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of a Roost cluster: one typed method per command and query of {@code roost.proto}, each
 * in a synchronous form and an asynchronous ({@code ...Async}) form.
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li><b>Finds the leader itself</b> from any peer list: the whole group or any subset of it,
 *       even one follower (Ratis follows the servers' redirects).
 *   <li><b>Every call ends by its deadline</b> (the builder's, 10 s by default): with a result or a
 *       {@link RoostException}. Never a hang, never a Ratis or gRPC exception. Retries happen
 *       inside the deadline: Ratis' own, with exponential backoff (25 ms doubling to 200 ms) and
 *       jitter (a factor in [0.5, 1.5)), stopping shortly before the deadline; the source of {@code
 *       ClientRetry} states the whole policy.
 *   <li><b>Writes apply at most once, and exactly once when they succeed.</b> The client opens a
 *       session through the log before its first write (and again when it expired) and numbers its
 *       writes in it; every retry of a write re-sends the same bytes, with the same Ratis call id
 *       while Ratis retries (the servers' retry cache answers with the first reply) and the same
 *       session and number always (the state machine keeps the session's replies until the client
 *       has seen them, and answers a repeat from there). A session the cluster no longer holds
 *       never lets a write apply: the write fails as outcome unknown ({@code SESSION_EXPIRED}).
 *   <li><b>Reads are linearizable</b> (read-index reads): a read reflects every write that
 *       completed before it started.
 *   <li><b>A write whose outcome is unknown says so</b>: {@link RoostException#outcomeUnknown()}.
 *       It is never silently re-sent under a new request id.
 * </ul>
 *
 * <h2>Batching</h2>
 *
 * Calls made concurrently on one client share requests: while a request of a kind is outstanding
 * (one by default, {@link Builder#batchesInFlight}), further calls of that kind wait and go out
 * together in the next, so that one Raft log entry carries many writes and one read index serves
 * many reads (see {@code Batcher}). Each call keeps its own request id, reply and error. An idle
 * client sends every call at once and alone; to get the throughput of batching, share one client
 * between the threads of a process.
 *
 * <h2>What the caller does on failure</h2>
 *
 * See {@link RoostException}: fix the input on {@code INVALID_ARGUMENT} and the other domain codes;
 * try later on {@code UNAVAILABLE} / {@code DEADLINE_EXCEEDED}; read before re-writing when the
 * outcome is unknown. The client stays usable after any failed call.
 *
 * <h2>Threads</h2>
 *
 * The client is thread-safe. Asynchronous methods never block and never throw: their future
 * completes exceptionally with a {@link RoostException} (which {@code get()} wraps in an {@code
 * ExecutionException}, {@code join()} in a {@code CompletionException}). Calls made concurrently
 * are independent and unordered; to order two writes, wait for the first. Callbacks attached to the
 * futures, and the leader-change listener, may run on the client's threads: keep them short.
 */
public final class RoostClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RoostClient.class);

  /** The per-call deadline unless the builder sets another. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(10);

  /**
   * The largest request the client sends: the leader's own limit ({@link
   * WireLimits#MAX_COMMAND_BYTES}), which keeps a Raft log entry well under {@code
   * raft.server.log.appender.buffer.byte-limit} (an entry over it makes the leader step down).
   * Checked here too so that an oversized request fails at once, with the leader's code.
   */
  static final int MAX_REQUEST_BYTES = WireLimits.MAX_COMMAND_BYTES;

  /**
   * The most calls one batch may carry: the servers refuse a batch of more writes than the request
   * replies they keep per session, so that a retried batch is always answered from memory.
   */
  public static final int MAX_BATCH_SIZE =
      Math.min(WireLimits.MAX_BATCH_COMMANDS, WireLimits.DEFAULT_DEDUP_WINDOW);

  /** Calls per batch unless the builder sets another: the most; see {@link Builder#batchSize}. */
  public static final int DEFAULT_BATCH_SIZE = MAX_BATCH_SIZE;

  /**
   * Requests of one kind outstanding at once unless the builder sets another; see {@link
   * Builder#batchesInFlight}. One is group commit: while a request is out, every call made in the
   * meantime waits and goes out with the others in the next one. A CPU-bound cluster runs out of
   * what each request costs (a Raft entry, an fsync, an RPC on every member, and the thread
   * hand-offs between them), so fewer, fuller requests serve more calls; docs/performance.md,
   * "Group commit in the client", has the figures for other settings.
   */
  public static final int DEFAULT_BATCHES_IN_FLIGHT = 1;

  /** The page size the {@code all*} streams read with: the most a server returns in one page. */
  static final int PAGE_SIZE = 200;

  private final Transport transport;
  private final ClientRetry retry;
  private final Consumer<Leader> leaderListener;
  private final ClientSession session;
  private final AtomicLong appliedIndex;
  private final AtomicReference<RaftPeerId> lastServer;
  private final AtomicBoolean closed;
  private final AtomicInteger nextMember;
  private final ReadConsistency readConsistency;
  private final Batcher<Command> writes;
  private final Map<ReadConsistency, Batcher<Query>> reads;

  private RoostClient(Builder b, Function<ClientRetry, Transport> transportFactory) {
    this.retry =
        new ClientRetry(
            b.deadline,
            Peers.format(b.peers),
            // One thread per outstanding request: batchesInFlight for the writes and for the reads
            // at each consistency. Calls beyond those wait in the batchers; the pool's queue only
            // holds a batch sent from the callback of the one before it, on that batch's thread,
            // until the thread is free.
            b.batchesInFlight * (1 + ReadConsistency.values().length),
            b.maxQueuedCalls,
            System::nanoTime);
    this.transport = transportFactory.apply(retry);
    this.leaderListener = b.leaderListener;
    this.appliedIndex = new AtomicLong();
    this.lastServer = new AtomicReference<>();
    this.closed = new AtomicBoolean();
    this.nextMember = new AtomicInteger();
    this.readConsistency = b.readConsistency;
    ClientRetry.Attempt writeAttempt = retry.writes(transport);
    this.writes =
        new Batcher<>(
            Kind.WRITE,
            b.batchesInFlight,
            b.batchSize,
            b.maxQueuedCalls,
            commands ->
                Command.newBuilder()
                    .setBatch(CommandBatch.newBuilder().addAllCommands(commands))
                    .build(),
            (op, message, deadline) -> retry.call(Kind.WRITE, op, message, writeAttempt, deadline),
            reply -> decode(Kind.WRITE, reply),
            retry);
    this.session =
        new ClientSession(
            () ->
                answer(
                    writes.submit(
                        OPEN_SESSION.name(),
                        Command.newBuilder()
                            .setOpenSession(OpenSession.getDefaultInstance())
                            .build()),
                    OPEN_SESSION),
            retry::now);
    this.reads = new EnumMap<>(ReadConsistency.class);
    for (ReadConsistency level : ReadConsistency.values()) {
      ClientRetry.Attempt attempt =
          switch (level) {
            case LINEARIZABLE -> transport::read;
            case FOLLOWER -> query -> readFromAnyMember(query, appliedIndex.get());
            case STALE -> query -> readFromAnyMember(query, 0);
          };
      reads.put(
          level,
          new Batcher<>(
              Kind.READ,
              b.batchesInFlight,
              b.batchSize,
              b.maxQueuedCalls,
              queries ->
                  Query.newBuilder()
                      .setBatch(QueryBatch.newBuilder().addAllQueries(queries))
                      .build(),
              (op, message, deadline) -> retry.call(Kind.READ, op, message, attempt, deadline),
              reply -> decode(Kind.READ, reply),
              retry));
    }
  }

  /** A view of {@code client} that reads at {@code readConsistency}; it shares everything else. */
  private RoostClient(RoostClient client, ReadConsistency readConsistency) {
    this.retry = client.retry;
    this.transport = client.transport;
    this.leaderListener = client.leaderListener;
    this.session = client.session;
    this.appliedIndex = client.appliedIndex;
    this.lastServer = client.lastServer;
    this.closed = client.closed;
    this.nextMember = client.nextMember;
    this.readConsistency = readConsistency;
    this.writes = client.writes;
    this.reads = client.reads;
  }

  /**
   * This client, reading at {@code readConsistency}: for one call, {@code
   * client.withReadConsistency(STALE).timeline(...)}. The view shares the connections, the request
   * ids and the highest applied index seen with this client; closing either closes both.
   */
  public RoostClient withReadConsistency(ReadConsistency readConsistency) {
    return readConsistency == this.readConsistency
        ? this
        : new RoostClient(this, Objects.requireNonNull(readConsistency, "readConsistency"));
  }

  /** The consistency of this client's reads. */
  public ReadConsistency readConsistency() {
    return readConsistency;
  }

  /** Starts building a client; {@link Builder#peers(List)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  // ---- the operations: every public call below is one of these applied to its request ----

  /**
   * One kind of call: its name in errors and logs, whether it writes, and where its result is in
   * the reply. A reply without that result is a server fault ({@code INTERNAL}); for a write its
   * outcome is unknown, since the reply may have been another write's.
   */
  private record Op<T>(
      String name, Kind kind, Predicate<Reply> present, Function<Reply, T> result, String what) {
    T resultOf(Reply reply) {
      if (!present.test(reply)) {
        throw new RoostException(
            StatusCode.INTERNAL,
            "the server's reply carried no " + what + " (payload: " + reply.getPayloadCase() + ")",
            kind == Kind.WRITE,
            reply,
            null);
      }
      return result.apply(reply);
    }
  }

  private static final Op<Session> OPEN_SESSION =
      new Op<>("open session", Kind.WRITE, Reply::hasSession, Reply::getSession, "session");
  private static final Op<User> REGISTER_USER =
      new Op<>("register user", Kind.WRITE, Reply::hasUser, Reply::getUser, "user");
  private static final Op<User> GET_USER =
      new Op<>("get user", Kind.READ, Reply::hasUser, Reply::getUser, "user");
  private static final Op<UserPage> LIST_USERS =
      new Op<>("list users", Kind.READ, Reply::hasUserPage, Reply::getUserPage, "user page");
  private static final Op<FollowResult> FOLLOW =
      new Op<>(
          "follow", Kind.WRITE, Reply::hasFollowResult, Reply::getFollowResult, "follow result");
  private static final Op<FollowResult> UNFOLLOW =
      new Op<>(
          "unfollow", Kind.WRITE, Reply::hasFollowResult, Reply::getFollowResult, "follow result");
  private static final Op<UserPage> LIST_FOLLOWING =
      new Op<>("list following", Kind.READ, Reply::hasUserPage, Reply::getUserPage, "user page");
  private static final Op<UserPage> LIST_FOLLOWERS =
      new Op<>("list followers", Kind.READ, Reply::hasUserPage, Reply::getUserPage, "user page");
  private static final Op<Post> POST =
      new Op<>("post", Kind.WRITE, Reply::hasPost, Reply::getPost, "post");
  private static final Op<PostPage> LIST_POSTS =
      new Op<>("list posts", Kind.READ, Reply::hasPostPage, Reply::getPostPage, "post page");
  private static final Op<PostPage> TIMELINE =
      new Op<>("timeline", Kind.READ, Reply::hasPostPage, Reply::getPostPage, "post page");
  private static final Op<KvEntry> KV_PUT =
      new Op<>("kv put", Kind.WRITE, Reply::hasKvEntry, Reply::getKvEntry, "entry");
  private static final Op<KvEntry> KV_GET =
      new Op<>("kv get", Kind.READ, Reply::hasKvEntry, Reply::getKvEntry, "entry");
  private static final Op<KvEntry> KV_DELETE =
      new Op<>("kv delete", Kind.WRITE, Reply::hasKvEntry, Reply::getKvEntry, "entry");
  private static final Op<KvEntry> KV_COMPARE_AND_SET =
      new Op<>("kv compare-and-set", Kind.WRITE, Reply::hasKvEntry, Reply::getKvEntry, "entry");
  private static final Op<KvPage> KV_LIST =
      new Op<>("kv list", Kind.READ, Reply::hasKvPage, Reply::getKvPage, "kv page");
  private static final Op<StateDigest> STATE_DIGEST =
      new Op<>(
          "state digest", Kind.READ, Reply::hasStateDigest, Reply::getStateDigest, "state digest");

  // ---- users ----

  /**
   * Registers {@code handle} ({@code displayName} may be null).
   *
   * @return the new user
   * @throws RoostException {@code ALREADY_EXISTS}, {@code INVALID_ARGUMENT}, or a transport code
   */
  public User registerUser(String handle, String displayName) {
    return await(registerUserAsync(handle, displayName), REGISTER_USER);
  }

  /** Asynchronous {@link #registerUser}. */
  public CompletableFuture<User> registerUserAsync(String handle, String displayName) {
    return write(REGISTER_USER, () -> Requests.registerUser(handle, displayName));
  }

  /**
   * @throws RoostException {@code NOT_FOUND} if no such user
   */
  public User getUser(String handle) {
    return await(getUserAsync(handle), GET_USER);
  }

  /** Asynchronous {@link #getUser}. */
  public CompletableFuture<User> getUserAsync(String handle) {
    return read(GET_USER, () -> Requests.getUser(handle));
  }

  /**
   * Users whose handle starts with {@code prefix} (null or "" = all), in handle order.
   *
   * @param limit page size, 0 for the server's default
   * @param pageToken null or "" for the first page, else a previous page's {@code next_page_token}
   */
  public UserPage listUsers(String prefix, int limit, String pageToken) {
    return await(listUsersAsync(prefix, limit, pageToken), LIST_USERS);
  }

  /** Asynchronous {@link #listUsers}. */
  public CompletableFuture<UserPage> listUsersAsync(String prefix, int limit, String pageToken) {
    return read(LIST_USERS, () -> Requests.listUsers(prefix, limit, pageToken));
  }

  // ---- social graph ----

  /**
   * Makes {@code follower} follow {@code followee}; following twice changes nothing.
   *
   * @return whether the graph changed
   */
  public FollowResult follow(String follower, String followee) {
    return await(followAsync(follower, followee), FOLLOW);
  }

  /** Asynchronous {@link #follow}. */
  public CompletableFuture<FollowResult> followAsync(String follower, String followee) {
    return write(FOLLOW, () -> Requests.follow(follower, followee));
  }

  /**
   * Ends a follow; unfollowing someone not followed changes nothing.
   *
   * @return whether the graph changed
   */
  public FollowResult unfollow(String follower, String followee) {
    return await(unfollowAsync(follower, followee), UNFOLLOW);
  }

  /** Asynchronous {@link #unfollow}. */
  public CompletableFuture<FollowResult> unfollowAsync(String follower, String followee) {
    return write(UNFOLLOW, () -> Requests.unfollow(follower, followee));
  }

  /** Whom {@code handle} follows, in handle order; paging as in {@link #listUsers}. */
  public UserPage listFollowing(String handle, int limit, String pageToken) {
    return await(listFollowingAsync(handle, limit, pageToken), LIST_FOLLOWING);
  }

  /** Asynchronous {@link #listFollowing}. */
  public CompletableFuture<UserPage> listFollowingAsync(
      String handle, int limit, String pageToken) {
    return read(LIST_FOLLOWING, () -> Requests.listFollowing(handle, limit, pageToken));
  }

  /** Who follows {@code handle}, in handle order; paging as in {@link #listUsers}. */
  public UserPage listFollowers(String handle, int limit, String pageToken) {
    return await(listFollowersAsync(handle, limit, pageToken), LIST_FOLLOWERS);
  }

  /** Asynchronous {@link #listFollowers}. */
  public CompletableFuture<UserPage> listFollowersAsync(
      String handle, int limit, String pageToken) {
    return read(LIST_FOLLOWERS, () -> Requests.listFollowers(handle, limit, pageToken));
  }

  // ---- posts ----

  /**
   * Posts {@code text} as {@code author}.
   *
   * @return the post, with its id (the log index that created it) and timestamp
   */
  public Post post(String author, String text) {
    return await(postAsync(author, text), POST);
  }

  /** Asynchronous {@link #post}. */
  public CompletableFuture<Post> postAsync(String author, String text) {
    return write(POST, () -> Requests.post(author, text));
  }

  /** Posts of {@code author}, newest first; paging as in {@link #listUsers}. */
  public PostPage listPosts(String author, int limit, String pageToken) {
    return await(listPostsAsync(author, limit, pageToken), LIST_POSTS);
  }

  /**
   * Every post of {@code author}, newest first, read a page at a time as the stream is consumed
   * (each page a linearizable read of its own, at this client's read consistency).
   *
   * @throws RoostException from the stream's terminal operation if a page cannot be read
   */
  public Stream<Post> allPosts(String author) {
    return Pages.stream(
        token -> listPosts(author, PAGE_SIZE, token),
        PostPage::getPostsList,
        PostPage::getNextPageToken);
  }

  /** Every account {@code handle} follows, in handle order; paging as in {@link #allPosts}. */
  public Stream<User> allFollowing(String handle) {
    return Pages.stream(
        token -> listFollowing(handle, PAGE_SIZE, token),
        UserPage::getUsersList,
        UserPage::getNextPageToken);
  }

  /** Asynchronous {@link #listPosts}. */
  public CompletableFuture<PostPage> listPostsAsync(String author, int limit, String pageToken) {
    return read(LIST_POSTS, () -> Requests.listPosts(author, limit, pageToken));
  }

  /**
   * The posts of {@code handle} and of the accounts it follows, newest first; the page token marks
   * a position in time, so paging stays correct while new posts arrive.
   */
  public PostPage timeline(String handle, int limit, String pageToken) {
    return await(timelineAsync(handle, limit, pageToken), TIMELINE);
  }

  /** Asynchronous {@link #timeline}. */
  public CompletableFuture<PostPage> timelineAsync(String handle, int limit, String pageToken) {
    return read(TIMELINE, () -> Requests.timeline(handle, limit, pageToken));
  }

  // ---- key-value map ----

  /**
   * Sets {@code key} to {@code value}.
   *
   * @return the entry after the write, with its revisions; its value is left out
   */
  public KvEntry kvPut(String key, byte[] value) {
    return await(kvPutAsync(key, value), KV_PUT);
  }

  /** Asynchronous {@link #kvPut}. */
  public CompletableFuture<KvEntry> kvPutAsync(String key, byte[] value) {
    return write(KV_PUT, () -> Requests.kvPut(key, value));
  }

  /**
   * @throws RoostException {@code NOT_FOUND} if the key does not exist
   */
  public KvEntry kvGet(String key) {
    return await(kvGetAsync(key), KV_GET);
  }

  /** Asynchronous {@link #kvGet}. */
  public CompletableFuture<KvEntry> kvGetAsync(String key) {
    return read(KV_GET, () -> Requests.kvGet(key));
  }

  /**
   * Deletes {@code key}.
   *
   * @return the entry as it was before the delete, without its value
   * @throws RoostException {@code NOT_FOUND} if the key does not exist
   */
  public KvEntry kvDelete(String key) {
    return await(kvDeleteAsync(key), KV_DELETE);
  }

  /** Asynchronous {@link #kvDelete}. */
  public CompletableFuture<KvEntry> kvDeleteAsync(String key) {
    return write(KV_DELETE, () -> Requests.kvDelete(key));
  }

  /**
   * Sets {@code key} to {@code newValue} if its current value equals {@code expected}.
   *
   * @return the entry after the write
   * @throws RoostException {@code FAILED_PRECONDITION} if the value differs or the key does not
   *     exist; its {@link RoostException#reply()} then holds the current entry, if any
   */
  public KvEntry kvCompareAndSetValue(String key, byte[] expected, byte[] newValue) {
    return await(kvCompareAndSetValueAsync(key, expected, newValue), KV_COMPARE_AND_SET);
  }

  /** Asynchronous {@link #kvCompareAndSetValue}. */
  public CompletableFuture<KvEntry> kvCompareAndSetValueAsync(
      String key, byte[] expected, byte[] newValue) {
    return write(KV_COMPARE_AND_SET, () -> Requests.kvCompareAndSetValue(key, expected, newValue));
  }

  /**
   * Sets {@code key} to {@code newValue} if its current version equals {@code expectedVersion} (0:
   * the key must not exist).
   *
   * @return the entry after the write
   * @throws RoostException {@code FAILED_PRECONDITION} if the version differs; its {@link
   *     RoostException#reply()} then holds the current entry, if any
   */
  public KvEntry kvCompareAndSetVersion(String key, long expectedVersion, byte[] newValue) {
    return await(kvCompareAndSetVersionAsync(key, expectedVersion, newValue), KV_COMPARE_AND_SET);
  }

  /** Asynchronous {@link #kvCompareAndSetVersion}. */
  public CompletableFuture<KvEntry> kvCompareAndSetVersionAsync(
      String key, long expectedVersion, byte[] newValue) {
    return write(
        KV_COMPARE_AND_SET, () -> Requests.kvCompareAndSetVersion(key, expectedVersion, newValue));
  }

  /**
   * Keys starting with {@code prefix} (null or "" = all), in key order; paging as in {@link
   * #listUsers}.
   */
  public KvPage kvList(String prefix, int limit, String pageToken) {
    return await(kvListAsync(prefix, limit, pageToken), KV_LIST);
  }

  /** Asynchronous {@link #kvList}. */
  public CompletableFuture<KvPage> kvListAsync(String prefix, int limit, String pageToken) {
    return read(KV_LIST, () -> Requests.kvList(prefix, limit, pageToken));
  }

  // ---- diagnostics ----

  /** A digest of the whole state, equal on two members exactly when their states are equal. */
  public StateDigest stateDigest() {
    return await(stateDigestAsync(), STATE_DIGEST);
  }

  /** Asynchronous {@link #stateDigest}. */
  public CompletableFuture<StateDigest> stateDigestAsync() {
    return read(STATE_DIGEST, Requests::stateDigest);
  }

  /**
   * The highest {@code applied_index} of any reply this client has received: a log index the
   * cluster has certainly reached. 0 before the first reply.
   */
  public long lastAppliedIndex() {
    return appliedIndex.get();
  }

  /**
   * The id of this client's current session, in which its writes are numbered; 0 before the first
   * write. A client opens a new session when its session expired or may be about to.
   */
  public long sessionId() {
    return session.id();
  }

  /** The per-call deadline. */
  public Duration deadline() {
    return retry.deadline();
  }

  /**
   * Closes the connections. Calls still running complete with {@code FAILED_PRECONDITION} (a write
   * among them with outcome unknown, if it was sent); later calls fail the same way.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      writes.close();
      reads.values().forEach(Batcher::close);
      retry.close();
      transport.close();
    }
  }

  // ---- the one path every call takes ----

  private <T> CompletableFuture<T> write(Op<T> op, Supplier<Command.Builder> build) {
    Command.Builder command;
    try {
      command = build.get();
      checkSize(op.name(), command.build().getSerializedSize());
    } catch (RoostException e) {
      return CompletableFuture.failedFuture(e);
    }
    long deadline = retry.deadlineFromNow();
    CompletableFuture<T> out = new CompletableFuture<>();
    session
        .session()
        .whenComplete(
            (s, failure) -> {
              if (failure != null) {
                out.completeExceptionally(notOpened(op, failure));
                return;
              }
              // Numbered once: every retry of this write, alone or in a batch, carries this id.
              RequestId id = session.number(s);
              answer(writes.submit(op.name(), command.setRequestId(id).build(), deadline), op)
                  .whenComplete(
                      (result, error) -> {
                        session.answered(s, id.getSequence());
                        if (error == null) {
                          out.complete(result);
                          return;
                        }
                        if (error instanceof RoostException e
                            && e.code() == StatusCode.SESSION_EXPIRED) {
                          session.expired(s);
                        }
                        out.completeExceptionally(error);
                      });
            });
    return out;
  }

  /**
   * A write that could not be sent for want of a session: it certainly did not apply, so it is a
   * definite failure, {@code UNAVAILABLE} when the cluster could not be reached in time (as for any
   * write sent nowhere), with the opening's message.
   */
  private static RoostException notOpened(Op<?> op, Throwable failure) {
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    StatusCode code = cause instanceof RoostException e ? e.code() : StatusCode.INTERNAL;
    if (code == StatusCode.DEADLINE_EXCEEDED || code == StatusCode.INTERNAL) {
      code = StatusCode.UNAVAILABLE;
    }
    return new RoostException(
        code,
        cause.getMessage() + " (while opening a session; the " + op.name() + " was not sent)",
        false,
        null,
        cause);
  }

  private <T> CompletableFuture<T> read(Op<T> op, Supplier<Query> build) {
    Query query;
    try {
      query = build.get();
      checkSize(op.name(), query.getSerializedSize());
    } catch (RoostException e) {
      return CompletableFuture.failedFuture(e);
    }
    return answer(reads.get(readConsistency).submit(op.name(), query), op);
  }

  /**
   * Reads from the members in turn (starting with a different one each call, to spread the load)
   * until one has applied {@code minIndex} and answers. If none can, the leader answers with a
   * linearizable read, which is at least as new.
   */
  private Answer readFromAnyMember(Message query, long minIndex) throws IOException {
    List<RaftPeerId> members = transport.members();
    int start = Math.floorMod(nextMember.getAndIncrement(), members.size());
    for (int i = 0; i < members.size(); i++) {
      RaftPeerId member = members.get((start + i) % members.size());
      try {
        return transport.readFrom(member, query, minIndex);
      } catch (IOException | RuntimeException e) {
        LOG.debug("{} could not serve a read at index {}: {}", member, minIndex, e.toString());
      }
    }
    return transport.read(query);
  }

  /** Turns one call's reply into its result, or its error code into a {@link RoostException}. */
  private <T> CompletableFuture<T> answer(CompletableFuture<Reply> reply, Op<T> op) {
    CompletableFuture<T> out = new CompletableFuture<>();
    reply.whenComplete(
        (r, failure) -> {
          if (failure != null) {
            out.completeExceptionally(failure);
            return;
          }
          appliedIndex.accumulateAndGet(r.getAppliedIndex(), Math::max);
          try {
            if (r.getCode() != StatusCode.OK) {
              throw RoostException.fromReply(r);
            }
            out.complete(op.resultOf(r));
          } catch (RoostException e) {
            out.completeExceptionally(e);
          }
        });
    return out;
  }

  /**
   * Decodes Roost's reply out of a server's answer, noting the server that answered. A write whose
   * answer carries no readable reply has an unknown outcome.
   */
  private Reply decode(Kind kind, Answer answer) {
    noteServer(answer.server());
    if (answer.reply() == null) {
      throw new RoostException(
          StatusCode.INTERNAL, "the server's answer carried no reply", kind == Kind.WRITE);
    }
    try {
      return Reply.parseFrom(answer.reply());
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new RoostException(
          StatusCode.INTERNAL,
          "cannot decode the server's reply: " + e.getMessage(),
          kind == Kind.WRITE,
          null,
          e);
    }
  }

  /**
   * Tells the listener when a server other than the previous one answers. A reply from a server
   * Ratis no longer addresses is a late answer to an older call and changes nothing.
   */
  private void noteServer(RaftPeerId server) {
    if (server == null || !server.equals(transport.currentLeader())) {
      return;
    }
    RaftPeerId previous = lastServer.getAndSet(server);
    if (previous == null || previous.equals(server)) {
      return;
    }
    Leader leader = new Leader(server.toString(), transport.addressOf(server));
    LOG.info("now talking to {} (was {})", leader, previous);
    try {
      leaderListener.accept(leader);
    } catch (RuntimeException e) {
      LOG.warn("the leader-change listener failed", e);
    }
  }

  private static void checkSize(String op, int size) {
    if (size > MAX_REQUEST_BYTES) {
      throw new RoostException(
          StatusCode.RESOURCE_EXHAUSTED,
          op + " request is " + size + " bytes; the limit is " + MAX_REQUEST_BYTES,
          false);
    }
  }

  private static <T> T await(CompletableFuture<T> future, Op<T> op) {
    Kind kind = op.kind();
    try {
      return future.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RoostException roost) {
        throw roost;
      }
      throw new RoostException(
          StatusCode.INTERNAL,
          String.valueOf(e.getCause()),
          kind == Kind.WRITE,
          null,
          e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RoostException(
          StatusCode.UNAVAILABLE,
          "interrupted while waiting for the answer"
              + (kind == Kind.WRITE ? "; the write may or may not be applied" : ""),
          kind == Kind.WRITE,
          null,
          e);
    }
  }

  /** Builds a {@link RoostClient}. */
  public static final class Builder {
    private List<RaftPeer> peers;
    private Duration deadline = DEFAULT_DEADLINE;
    private Consumer<Leader> leaderListener = leader -> {};
    private int maxQueuedCalls = 10_000;
    private ReadConsistency readConsistency = ReadConsistency.LINEARIZABLE;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private int batchesInFlight = DEFAULT_BATCHES_IN_FLIGHT;
    private boolean writeGateway = true;
    private Tls tls = Tls.PLAINTEXT;

    private Builder() {}

    /**
     * Whether writes go to the leader's write gateway (default true), where the leader puts the
     * writes of many clients that arrive together into one log entry; false sends each request as a
     * Ratis request of its own, one entry each. Either way a write keeps its request id, reply and
     * error, and a failed gateway attempt is retried the Ratis way. Servers without a gateway (not
     * roost-server) are detected on the first write.
     */
    public Builder writeGateway(boolean writeGateway) {
      this.writeGateway = writeGateway;
      return this;
    }

    /**
     * How many concurrent calls of one kind may share one request (default {@value
     * #DEFAULT_BATCH_SIZE}; 1 sends every call alone). Calls are batched only while {@link
     * #batchesInFlight} requests of their kind are already outstanding, so this adds no delay.
     * Writes in flight (this times {@code batchesInFlight}) should stay within the 128 recent
     * replies the servers keep per session, or a write retried late may come back with an unknown
     * outcome ({@code ABORTED}).
     */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
        throw new IllegalArgumentException(
            "batchSize must be in [1, " + MAX_BATCH_SIZE + "], got " + batchSize);
      }
      this.batchSize = batchSize;
      return this;
    }

    /**
     * How many requests of one kind (writes, or reads at one consistency) may be outstanding at
     * once before further calls wait to be batched (default {@value #DEFAULT_BATCHES_IN_FLIGHT}).
     */
    public Builder batchesInFlight(int batchesInFlight) {
      if (batchesInFlight < 1) {
        throw new IllegalArgumentException("batchesInFlight must be >= 1, got " + batchesInFlight);
      }
      this.batchesInFlight = batchesInFlight;
      return this;
    }

    /** The consistency of reads (default {@link ReadConsistency#LINEARIZABLE}). */
    public Builder readConsistency(ReadConsistency readConsistency) {
      this.readConsistency = Objects.requireNonNull(readConsistency, "readConsistency");
      return this;
    }

    /** The servers to start from: the whole group or any subset of it (required). */
    public Builder peers(List<RaftPeer> peers) {
      if (peers == null || peers.isEmpty()) {
        throw new IllegalArgumentException("peer list is empty");
      }
      this.peers = List.copyOf(peers);
      return this;
    }

    /**
     * The servers as {@code id=host:port,...}.
     *
     * @throws IllegalArgumentException naming the bad entry
     */
    public Builder peers(String spec) {
      return peers(Peers.parse(spec));
    }

    /**
     * How to reach the servers: TLS trusting the cluster's CA ({@link Tls#trusting}), as Roost
     * servers run by default, or {@link Tls#PLAINTEXT} for servers run with {@code --insecure} (the
     * default here).
     */
    public Builder tls(Tls tls) {
      this.tls = Objects.requireNonNull(tls, "tls");
      return this;
    }

    /** How long each call may take, retries included (default 10 s). */
    public Builder deadline(Duration deadline) {
      Objects.requireNonNull(deadline, "deadline");
      if (deadline.isNegative() || deadline.isZero()) {
        throw new IllegalArgumentException("deadline must be positive, got " + deadline);
      }
      this.deadline = deadline;
      return this;
    }

    /**
     * Called when an answer comes from a different server than the previous answer: after a
     * failover, the new leader (the CLI prints {@code Reconnecting to host:port...}). Not called
     * for the first answer. Answers to writes come from the leader; a linearizable read may be
     * answered by a follower the client addressed while looking for the leader, so a read after a
     * failover may report that follower first.
     */
    public Builder onLeaderChange(Consumer<Leader> listener) {
      this.leaderListener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** Builds the client; it connects lazily, on the first call. */
    public RoostClient build() {
      return build(
          retry ->
              new RatisTransport(
                  peers,
                  retry,
                  ClientRetry.attemptTimeout(retry.deadline()),
                  retry.deadline().multipliedBy(2),
                  writeGateway,
                  tls));
    }

    /** Builds the client on another transport: for tests. */
    RoostClient build(Function<ClientRetry, Transport> transport) {
      if (peers == null) {
        throw new IllegalStateException("peers are required");
      }
      return new RoostClient(this, transport);
    }
  }
}

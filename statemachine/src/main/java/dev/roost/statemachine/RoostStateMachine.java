package dev.roost.statemachine;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.RejectedCommandException;
import dev.roost.api.WireLimits;
import dev.roost.domain.Code;
import dev.roost.domain.Limits;
import dev.roost.domain.Payload;
import dev.roost.domain.Rejection;
import dev.roost.domain.Result;
import dev.roost.domain.RoostState;
import dev.roost.domain.Validation;
import dev.roost.proto.Command;
import dev.roost.proto.Command.OpCase;
import dev.roost.proto.Query;
import dev.roost.proto.Query.QCase;
import dev.roost.proto.QueryBatch;
import dev.roost.proto.Reply;
import dev.roost.proto.ReplyBatch;
import dev.roost.proto.Settings;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongSupplier;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis adapter: decodes log entries and queries, calls the domain ({@link RoostState}), and
 * takes and loads snapshots through a {@link SnapshotStore}. Nothing here decides what a command
 * means.
 *
 * <ul>
 *   <li>{@link #startTransaction} runs on the leader before an entry enters the log: it refuses
 *       malformed or invalid input with a {@link RejectedCommandException} (so it is never
 *       replicated) and stamps the leader's clock into the entry.
 *   <li>{@link #applyTransaction} runs on every member in log order, on one thread. It never throws
 *       for a bad command (Ratis would shut the group down): a command the domain refuses becomes a
 *       reply with an error code.
 *   <li>{@link #query} serves reads from memory under a read lock, concurrently with each other and
 *       excluded only while one entry is applied.
 *   <li>Batches: one entry may carry a {@code CommandBatch} of writes, one query a {@code
 *       QueryBatch} of reads. Each element is validated, applied or answered on its own, in order,
 *       and gets its own reply inside one {@code ReplyBatch}; only a malformed envelope is refused
 *       as a whole. A batch is applied, and a query batch answered, under one lock acquisition, so
 *       no read ever sees part of an entry.
 *   <li>Snapshots: {@link #takeSnapshot} writes the state under the read lock, so that it is one
 *       applied index's; on start, and after the leader installed one, the newest intact snapshot
 *       becomes the state. The {@link SnapshotStore} owns the files, their format and integrity.
 *   <li>An optional {@link Observer} hears of every command, query and snapshot, so that the
 *       process running this state machine can count and time them without this class knowing how.
 * </ul>
 */
public class RoostStateMachine extends BaseStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(RoostStateMachine.class);

  /**
   * Hears what the state machine does, for metrics. The callbacks run on Ratis' threads, inside the
   * write and read paths: {@link #commandApplied} and {@link #snapshotTaken} on the single apply
   * thread, {@link #commandRejected} and {@link #queryServed} on request threads, concurrently. An
   * implementation must therefore be quick, thread-safe and must not block; it must not throw (a
   * throw from the apply thread would shut the group down). Every method does nothing by default.
   */
  public interface Observer {
    /** An observer that ignores everything. */
    Observer NONE = new Observer() {};

    /**
     * The leader refused a command before it entered the log; the client sees {@code code}.
     *
     * @param op the command's operation ({@code BATCH} for a batch refused as a whole), or {@code
     *     OP_NOT_SET} if it could not be parsed
     */
    default void commandRejected(OpCase op, StatusCode code) {}

    /**
     * A committed write was applied, on this member, with outcome {@code code}. A batch is reported
     * once per write in it, each with the batch's {@code nanosSinceAccept}; a batch refused as a
     * whole in apply is reported once, as {@code BATCH}.
     *
     * @param op the write's operation, or {@code OP_NOT_SET} if the entry could not be parsed
     * @param nanosSinceAccept nanoseconds since this member accepted the command as leader in
     *     {@code startTransaction}, or -1 when this member did not accept it (a follower, a log
     *     replay, or a command accepted by an earlier leader); the member that accepted a command
     *     is the one that answers its client
     */
    default void commandApplied(OpCase op, StatusCode code, long nanosSinceAccept) {}

    /**
     * A query was answered from this member's state. A query batch is reported once per query in
     * it, each with its own time; a batch refused as a whole is reported once, as {@code BATCH}.
     *
     * @param query the query's kind, or {@code Q_NOT_SET} if it could not be parsed
     * @param nanos time spent decoding, evaluating and encoding it
     */
    default void queryServed(QCase query, StatusCode code, long nanos) {}

    /** A snapshot of {@code bytes} bytes was written and recorded in {@code nanos}. */
    default void snapshotTaken(long bytes, long nanos) {}
  }

  /**
   * The sizes of the state at one applied index.
   *
   * @param users registered users
   * @param followEdges follow relations
   * @param posts posts
   * @param keys keys in the key-value map
   * @param sessions client sessions open
   */
  public record StateSizes(long users, long followEdges, long posts, long keys, long sessions) {}

  /**
   * The version of the rules this state machine applies entries by, stamped by the leader into each
   * entry. Raise it with any change to what an entry does when applied (a validation rule, a reply,
   * an order of ids), so that a member running older code stops instead of applying a newer entry
   * differently from its peers.
   */
  public static final int VERSION = 1;

  private final Limits initialLimits;
  private final Observer observer;
  private final LongSupplier wallClockMs;
  private final SecureRandom random = new SecureRandom();
  private final SnapshotStore snapshots;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  // Read without the lock by the leader's checks before the log; replaced whole on install.
  private volatile RoostState state;
  private volatile ClientId settingsFrom;
  private volatile Runnable onLeaderReady = () -> {};

  /**
   * A state machine enforcing {@code limits} until settings enter the log (production passes {@link
   * Limits#DEFAULT}, shared by every member, and sets the cluster's values through the log; see
   * {@link #acceptSettingsFrom}).
   */
  public RoostStateMachine(Limits limits) {
    this(limits, Observer.NONE);
  }

  /**
   * A state machine enforcing {@code limits} that reports to {@code observer}.
   *
   * @param limits the limits every member of the group must share
   * @param observer called on the write, read and snapshot paths; see {@link Observer}
   */
  public RoostStateMachine(Limits limits, Observer observer) {
    this(limits, observer, System::currentTimeMillis);
  }

  /**
   * A state machine enforcing {@code limits} that reports to {@code observer} and, as leader,
   * stamps writes with {@code wallClockMs}.
   *
   * @param wallClockMs the time, in milliseconds since the epoch, the leader stamps into a write;
   *     the state machine keeps timestamps from going back, so a clock running ahead would pin
   *     every later one (the server bounds it by its peers' clocks)
   */
  public RoostStateMachine(Limits limits, Observer observer, LongSupplier wallClockMs) {
    this.initialLimits = limits;
    this.observer = observer;
    this.wallClockMs = wallClockMs;
    this.snapshots = new SnapshotStore();
    this.state = new RoostState(initialLimits);
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
      throws IOException {
    // The life cycle must reach RUNNING: installing a snapshot from the leader pauses it (see
    // pause()), and Ratis refuses to reload a state machine that is not PAUSED by closing the
    // server.
    getLifeCycle()
        .startAndTransition(
            () -> {
              super.initialize(server, groupId, raftStorage);
              install(snapshots.open(raftStorage, getId()));
            },
            IOException.class);
  }

  /**
   * Called by Ratis before it installs a snapshot sent by the leader into this member's {@code sm/}
   * directory; {@link #reinitialize()} follows. Ratis then asserts that the state machine is
   * PAUSED, and closes the follower's server if it is not (BaseStateMachine's pause() does
   * nothing). Since Ratis 3.3 the chunks are staged outside {@code sm/} while this state machine
   * keeps running, and this comes once, after the last chunk, just before the directory is swapped.
   */
  @Override
  public void pause() {
    if (getLifeCycleState() == LifeCycle.State.RUNNING) {
      getLifeCycle().transition(LifeCycle.State.PAUSING);
      getLifeCycle().transition(LifeCycle.State.PAUSED);
    }
  }

  @Override
  public void reinitialize() throws IOException {
    // Called after a snapshot was installed from the leader: the directory was replaced.
    install(snapshots.reload());
    if (getLifeCycleState() == LifeCycle.State.PAUSED) {
      getLifeCycle().transition(LifeCycle.State.STARTING);
      getLifeCycle().transition(LifeCycle.State.RUNNING);
    }
    LOG.info("{}: installed snapshot from leader, applied index {}", getId(), appliedIndex());
  }

  @Override
  public SimpleStateMachineStorage getStateMachineStorage() {
    return snapshots.storage();
  }

  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    long acceptedAt = System.nanoTime();
    TransactionContext trx = super.startTransaction(request);
    ByteString content = request.getMessage().getContent();
    OpCase op = OpCase.OP_NOT_SET;
    try {
      checkSize(content.size());
      Command command = parseCommand(content);
      op = command.getOpCase();
      if (op == OpCase.BATCH) {
        // Only the envelope is checked here. Each write in it is validated when applied, where a
        // bad one becomes its own error reply: refusing the entry for it would fail every other
        // write of the batch, and checking it here too would only repeat that work.
        checkBatchEnvelope(command);
      } else if (op == OpCase.OPEN_SESSION) {
        checkOpenSession(command);
      } else if (op == OpCase.SET_SETTINGS) {
        if (settingsFrom == null || !settingsFrom.equals(request.getClientId())) {
          throw new Rejection(
              Code.PERMISSION_DENIED,
              "settings are changed through a server's admin endpoint (roost cluster settings)");
        }
        ProtoCodec.limits(command.getSetSettings().getSettings());
      } else {
        ProtoCodec.requestId(command);
        Validation.command(ProtoCodec.command(command), state.limits());
      }
      // A batch is stamped once, in its envelope: every write in it applies with that time.
      byte[] stamped =
          withSessionIds(
                  command.toBuilder()
                      .setTimestampMs(wallClockMs.getAsLong())
                      .setStateMachineVersion(VERSION))
              .build()
              .toByteArray();
      return TransactionContext.newBuilder()
          .setStateMachine(this)
          .setClientRequest(request)
          .setServerRole(trx.getServerRole())
          .setLogData(UnsafeByteOperations.unsafeWrap(stamped))
          // Ratis hands this same context to applyTransaction on this member while it stays
          // leader; followers and replays get a fresh one without it.
          .setStateMachineContext(acceptedAt)
          .build();
    } catch (Rejection r) {
      StatusCode code = ProtoCodec.status(r.code());
      observer.commandRejected(op, code);
      // setException, never throw: a throw here leaves a pending retry-cache entry behind.
      trx.setException(new RejectedCommandException(code, r.getMessage()));
      return trx;
    }
  }

  /**
   * Draws the id of each session {@code command} opens, alone or in a batch: at random, on the
   * leader, so that the log carries it to every member and no client can guess another's session. A
   * batch is rebuilt only at the writes that open one: asking a builder for all of its writes'
   * builders would copy every write of every batch on the leader's hot path.
   */
  private Command.Builder withSessionIds(Command.Builder command) {
    if (command.getOpCase() == OpCase.OPEN_SESSION) {
      command.getOpenSessionBuilder().setId(sessionId());
    } else if (command.getOpCase() == OpCase.BATCH) {
      List<Command> writes = command.getBatch().getCommandsList();
      for (int i = 0; i < writes.size(); i++) {
        if (writes.get(i).getOpCase() == OpCase.OPEN_SESSION) {
          command
              .getBatchBuilder()
              .getCommandsBuilder(i)
              .getOpenSessionBuilder()
              .setId(sessionId());
        }
      }
    }
    return command;
  }

  private long sessionId() {
    long id;
    do {
      id = random.nextLong() & Long.MAX_VALUE;
    } while (id == 0);
    return id;
  }

  /**
   * Refuses an OpenSession that carries a request id: it is not a write of a session, and a request
   * id on it would be dropped silently otherwise.
   *
   * @throws Rejection with INVALID_ARGUMENT
   */
  private static void checkOpenSession(Command command) {
    if (command.hasRequestId()) {
      throw new Rejection(
          Code.INVALID_ARGUMENT, "opening a session carries no request id; its writes do");
    }
  }

  /**
   * Refuses a command that is over the size limit or a batch whose envelope is malformed, before it
   * is queued or combined with other clients' writes: the write gateway calls this so that queued
   * commands hold no more bytes than one may, and one client's bad batch cannot change how many
   * writes a combined entry carries, and with that which reply goes to which caller. A single write
   * is checked when it is applied, where a bad one gets its own error reply.
   *
   * @param bytes the command's size as it arrived
   * @return the refusal, as {@link #startTransaction} would give it, or empty if {@code command}
   *     may be combined
   */
  public Optional<RejectedCommandException> refusedBeforeCombining(Command command, int bytes) {
    try {
      checkSize(bytes);
      if (command.getOpCase() == OpCase.BATCH) {
        checkBatchEnvelope(command);
      }
      return Optional.empty();
    } catch (Rejection r) {
      observer.commandRejected(command.getOpCase(), ProtoCodec.status(r.code()));
      return Optional.of(new RejectedCommandException(ProtoCodec.status(r.code()), r.getMessage()));
    }
  }

  private static void checkSize(int bytes) {
    if (bytes > WireLimits.MAX_COMMAND_BYTES) {
      throw new Rejection(
          Code.RESOURCE_EXHAUSTED,
          "command is " + bytes + " bytes; the limit is " + WireLimits.MAX_COMMAND_BYTES);
    }
  }

  /**
   * Checks what a batch's envelope must be, with no look at the state: 1 to {@link
   * #maxBatchCommands()} writes, none of them a batch, and no request id of its own (each write
   * carries one; an id on the envelope would be dropped silently otherwise).
   *
   * @throws Rejection with INVALID_ARGUMENT naming what is wrong
   */
  private void checkBatchEnvelope(Command batch) {
    if (batch.hasRequestId()) {
      throw new Rejection(
          Code.INVALID_ARGUMENT, "a batch has no request id of its own; each write in it has one");
    }
    int writes = batch.getBatch().getCommandsCount();
    if (writes < 1 || writes > maxBatchCommands()) {
      throw new Rejection(
          Code.INVALID_ARGUMENT,
          "a batch carries 1 to " + maxBatchCommands() + " writes; this one has " + writes);
    }
    for (Command write : batch.getBatch().getCommandsList()) {
      if (write.getOpCase() == OpCase.BATCH) {
        throw new Rejection(Code.INVALID_ARGUMENT, "a batch cannot contain a batch");
      }
      if (write.getOpCase() == OpCase.SET_SETTINGS) {
        throw new Rejection(Code.INVALID_ARGUMENT, "a batch cannot change the settings");
      }
    }
  }

  /**
   * The most writes a batch may carry here: {@link WireLimits#MAX_BATCH_COMMANDS}, and no more than
   * the replies a session keeps, so that a retried batch is recognised in full.
   */
  public int maxBatchCommands() {
    return Math.min(WireLimits.MAX_BATCH_COMMANDS, state.limits().dedupWindow());
  }

  /**
   * Accepts a SetSettings command only from the Raft client {@code id}: the server's own
   * administration, which runs in-process behind the authenticated admin endpoint. Any other sender
   * is refused with PERMISSION_DENIED before the log.
   */
  public void acceptSettingsFrom(ClientId id) {
    this.settingsFrom = id;
  }

  /**
   * Runs {@code action} each time this member becomes a ready leader (its first entry of the term
   * committed), on a Ratis thread: it must not block.
   */
  public void onLeaderReady(Runnable action) {
    this.onLeaderReady = action;
  }

  @Override
  public void notifyLeaderReady() {
    onLeaderReady.run();
  }

  /** The settings this member applies writes by now. */
  public Settings settings() {
    return ProtoCodec.settings(state.limits());
  }

  /** Whether settings were ever applied here, or the initial limits still hold. */
  public boolean configured() {
    return state.configured();
  }

  /** The wire form of {@code limits}. */
  public static Settings settingsOf(Limits limits) {
    return ProtoCodec.settings(limits);
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long index = entry.getIndex();
    Applied applied;
    lock.writeLock().lock();
    try {
      applied = applyEntry(entry.getStateMachineLogEntry().getLogData(), index);
      updateLastAppliedTermIndex(entry.getTerm(), index);
    } finally {
      lock.writeLock().unlock();
    }
    long nanosSinceAccept =
        trx.getStateMachineContext() instanceof Long acceptedAt
            ? System.nanoTime() - acceptedAt
            : -1;
    reportApplied(applied, nanosSinceAccept);
    // Every member builds the reply, not only the leader: Ratis keeps it in each member's retry
    // cache, and a member that becomes leader answers a retried request from there.
    return CompletableFuture.completedFuture(toMessage(applied.reply));
  }

  /** An applied entry: its command (null if it could not be parsed) and the reply to it. */
  private record Applied(Command command, Reply reply) {}

  /**
   * Stops this member at an entry written for rules it does not know: applying it by older ones
   * could give another state than the peers', silently. Throwing out of apply makes Ratis close the
   * member (so its health check fails and it stays down until upgraded); it never skips the entry.
   */
  private void checkVersion(Command command, long index) {
    if (command.getStateMachineVersion() > VERSION) {
      String why =
          String.format(
              "%s: the entry at index %d was written for state machine version %d; this server"
                  + " applies version %d and stops rather than apply it by other rules than its"
                  + " peers: upgrade it",
              getId(), index, command.getStateMachineVersion(), VERSION);
      LOG.error(why);
      throw new IllegalStateException(why);
    }
  }

  /**
   * Applies one entry's command, a single write or a batch. Never throws, except at an entry of an
   * unknown version.
   */
  private Applied applyEntry(ByteString logData, long index) {
    Command command = null;
    try {
      command = parseCommand(logData);
      checkVersion(command, index);
      if (command.getOpCase() != OpCase.BATCH) {
        return new Applied(command, applyWrite(command, index, command.getTimestampMs()));
      }
      // The envelope rules are checked again, as every input rule is: they depend on nothing but
      // the entry, so a leader's accepted batch passes them here too, on every member.
      checkBatchEnvelope(command);
      ReplyBatch.Builder replies = ReplyBatch.newBuilder();
      for (Command write : command.getBatch().getCommandsList()) {
        // The envelope's time, not the write's: only the envelope was stamped by the leader.
        replies.addReplies(applyWrite(write, index, command.getTimestampMs()));
      }
      Reply reply =
          Reply.newBuilder()
              .setCode(StatusCode.OK)
              .setAppliedIndex(index)
              .setBatch(replies)
              .build();
      return new Applied(command, reply);
    } catch (Rejection r) {
      // Only an entry written by a leader that validated less than this one can get here.
      return new Applied(command, ProtoCodec.reply(Result.error(r.code(), r.getMessage()), index));
    }
  }

  /**
   * Applies one write, alone in its entry or one of a batch's, and answers it. A write whose
   * request id or operation is malformed is refused with its own reply and changes nothing.
   */
  private Reply applyWrite(Command write, long index, long stampedMs) {
    Result result;
    try {
      if (write.getOpCase() == OpCase.OPEN_SESSION) {
        checkOpenSession(write);
        result = state.openSession(write.getOpenSession().getId(), stampedMs);
      } else if (write.getOpCase() == OpCase.SET_SETTINGS) {
        result =
            state.configure(
                ProtoCodec.limits(write.getSetSettings().getSettings()),
                write.getSetSettings().getIfUnset());
      } else {
        result =
            state.apply(ProtoCodec.requestId(write), ProtoCodec.command(write), index, stampedMs);
      }
    } catch (Rejection r) {
      result = Result.error(r.code(), r.getMessage());
    }
    return ProtoCodec.reply(result, index);
  }

  /** Tells the observer of each write an entry carried, outside the write lock. */
  private void reportApplied(Applied applied, long nanosSinceAccept) {
    if (applied.reply.hasBatch()) {
      List<Command> writes = applied.command.getBatch().getCommandsList();
      List<Reply> replies = applied.reply.getBatch().getRepliesList();
      for (int i = 0; i < writes.size(); i++) {
        observer.commandApplied(
            writes.get(i).getOpCase(), replies.get(i).getCode(), nanosSinceAccept);
      }
    } else {
      OpCase op = applied.command == null ? OpCase.OP_NOT_SET : applied.command.getOpCase();
      observer.commandApplied(op, applied.reply.getCode(), nanosSinceAccept);
    }
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    long started = System.nanoTime();
    Query query;
    try {
      query = Query.parseFrom(request.getContent().asReadOnlyByteBuffer());
    } catch (InvalidProtocolBufferException e) {
      return served(
          QCase.Q_NOT_SET,
          errorReply(StatusCode.INVALID_ARGUMENT, "malformed query: " + e.getMessage()),
          started);
    }
    if (query.getQCase() == QCase.BATCH) {
      return CompletableFuture.completedFuture(toMessage(queryBatch(query.getBatch(), started)));
    }
    Reply reply;
    lock.readLock().lock();
    try {
      reply = answer(query, appliedIndex());
    } finally {
      lock.readLock().unlock();
    }
    return served(query.getQCase(), reply, started);
  }

  private CompletableFuture<Message> served(QCase kind, Reply reply, long started) {
    Message message = toMessage(reply);
    observer.queryServed(kind, reply.getCode(), System.nanoTime() - started);
    return CompletableFuture.completedFuture(message);
  }

  /**
   * How long one query batch may hold the read lock, which holds back apply meanwhile. Each query's
   * own work is bounded (by page limits and quotas); this bounds a batch of them.
   */
  static final long BATCH_LOCK_BUDGET_NANOS = 100_000_000;

  /** Bytes of replies one query batch may build; a page of keys alone may carry 4 MiB. */
  static final int BATCH_REPLY_BUDGET_BYTES = 8 << 20;

  /**
   * Answers every query of a batch from one state (one read lock, one applied index), each on its
   * own: an error in one is that query's reply and does not stop the others. Once the batch has
   * held the lock for {@link #BATCH_LOCK_BUDGET_NANOS} or built {@link #BATCH_REPLY_BUDGET_BYTES}
   * of replies, each query left gets {@code RESOURCE_EXHAUSTED} instead, to be asked again.
   */
  private Reply queryBatch(QueryBatch batch, long started) {
    int n = batch.getQueriesCount();
    if (n < 1 || n > WireLimits.MAX_BATCH_QUERIES) {
      Reply refused =
          errorReply(
              StatusCode.INVALID_ARGUMENT,
              "a query batch carries 1 to "
                  + WireLimits.MAX_BATCH_QUERIES
                  + " queries; this one has "
                  + n);
      observer.queryServed(QCase.BATCH, refused.getCode(), System.nanoTime() - started);
      return refused;
    }
    ReplyBatch.Builder replies = ReplyBatch.newBuilder();
    long[] nanos = new long[n];
    long applied;
    lock.readLock().lock();
    try {
      applied = appliedIndex();
      long locked = System.nanoTime();
      long replyBytes = 0;
      for (int i = 0; i < n; i++) {
        long t = System.nanoTime();
        Reply reply;
        if (t - locked > BATCH_LOCK_BUDGET_NANOS || replyBytes > BATCH_REPLY_BUDGET_BYTES) {
          reply =
              errorReply(
                  StatusCode.RESOURCE_EXHAUSTED,
                  "not answered: the queries before it in this batch used its budget; ask again");
        } else {
          reply = answer(batch.getQueries(i), applied);
          replyBytes += reply.getSerializedSize();
        }
        replies.addReplies(reply);
        nanos[i] = System.nanoTime() - t;
      }
    } finally {
      lock.readLock().unlock();
    }
    for (int i = 0; i < n; i++) {
      observer.queryServed(
          batch.getQueries(i).getQCase(), replies.getReplies(i).getCode(), nanos[i]);
    }
    return Reply.newBuilder()
        .setCode(StatusCode.OK)
        .setAppliedIndex(applied)
        .setBatch(replies)
        .build();
  }

  /** Answers one single query; the caller holds the read lock. */
  private Reply answer(Query query, long appliedIndex) {
    Result result;
    try {
      result = state.query(ProtoCodec.query(query));
    } catch (Rejection r) {
      result = Result.error(r.code(), r.getMessage());
    }
    return ProtoCodec.reply(result, appliedIndex);
  }

  private Reply errorReply(StatusCode code, String message) {
    return Reply.newBuilder()
        .setCode(code)
        .setMessage(message)
        .setAppliedIndex(appliedIndex())
        .build();
  }

  /** The log index of the last applied entry (0 before any). */
  public long appliedIndex() {
    TermIndex applied = getLastAppliedTermIndex();
    return applied == null ? 0 : applied.getIndex();
  }

  /** The sizes of the current state, read under the same lock as queries. */
  public StateSizes sizes() {
    lock.readLock().lock();
    try {
      return new StateSizes(
          state.userCount(),
          state.followEdgeCount(),
          state.postCount(),
          state.keyCount(),
          state.sessionCount());
    } finally {
      lock.readLock().unlock();
    }
  }

  /** A digest of the current state, to compare members. */
  public Payload.StateDigest digest() {
    lock.readLock().lock();
    try {
      return state.digest();
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public long takeSnapshot() throws IOException {
    long started = System.nanoTime();
    TermIndex applied;
    Path file;
    lock.readLock().lock();
    try {
      applied = getLastAppliedTermIndex();
      if (applied == null || applied.getIndex() <= 0) {
        return RaftLog.INVALID_LOG_INDEX;
      }
      file = snapshots.write(state, applied);
    } finally {
      lock.readLock().unlock();
    }
    long bytes = snapshots.publish(file, applied);
    long nanos = System.nanoTime() - started;
    observer.snapshotTaken(bytes, nanos);
    LOG.info(
        "{}: snapshot taken at term {} index {}: {} bytes in {} ms",
        getId(),
        applied.getTerm(),
        applied.getIndex(),
        bytes,
        nanos / 1_000_000);
    return applied.getIndex();
  }

  /**
   * Makes {@code loaded} the state; with no intact snapshot the state starts empty and Ratis
   * replays the log from its start.
   */
  private void install(SnapshotStore.Loaded loaded) {
    lock.writeLock().lock();
    try {
      state = loaded == null ? new RoostState(initialLimits) : loaded.state();
      setLastAppliedTermIndex(loaded == null ? null : loaded.appliedUpTo());
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public void notifyConfigurationChanged(
      long term, long index, RaftConfigurationProto newConfiguration) {
    LOG.info(
        "{}: configuration changed at term {} index {}: voters {}, listeners {}",
        getId(),
        term,
        index,
        newConfiguration.getPeersList().stream().map(p -> p.getId().toStringUtf8()).toList(),
        newConfiguration.getListenersList().stream().map(p -> p.getId().toStringUtf8()).toList());
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId memberId, RaftPeerId newLeaderId) {
    if (memberId.getPeerId().equals(newLeaderId)) {
      LOG.info(
          "{}: won the election: leader for term {} (applied index {})",
          memberId.getPeerId(),
          currentTerm(),
          appliedIndex());
    } else {
      LOG.info(
          "{}: leader is now {} (term {}, applied index {})",
          memberId.getPeerId(),
          newLeaderId,
          currentTerm(),
          appliedIndex());
    }
  }

  private long currentTerm() {
    RaftServer server = getServer().getNow(null);
    try {
      return server == null ? -1 : server.getDivision(getGroupId()).getInfo().getCurrentTerm();
    } catch (IOException e) {
      return -1;
    }
  }

  private static Command parseCommand(ByteString bytes) {
    try {
      return Command.parseFrom(bytes.asReadOnlyByteBuffer());
    } catch (InvalidProtocolBufferException e) {
      throw new Rejection(Code.INVALID_ARGUMENT, "malformed command: " + e.getMessage());
    }
  }

  private static Message toMessage(Reply reply) {
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(reply.toByteArray()));
  }

  @Override
  public String toString() {
    return "RoostStateMachine:" + getId();
  }
}

package dev.roost.client;

import dev.roost.api.RejectedCommandException;
import dev.roost.proto.GatewayReply;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.protocol.exceptions.TransferLeadershipException;
import org.apache.ratis.retry.ExponentialBackoffRetry;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link RoostClient}'s whole retry policy, deadline and failure classification, in one place.
 *
 * <h2>The policy</h2>
 *
 * <ol>
 *   <li><b>One deadline per call</b> (the builder's, 10 s by default), counted from the moment the
 *       caller makes the call. Whatever happens, the call's future is complete by then.
 *   <li><b>Ratis retries, bounded by the deadline.</b> Each call is one blocking {@code
 *       RaftClient.io()} call. Ratis' loop in it re-sends the request with the <em>same client id
 *       and call id</em> (so the servers' retry cache answers a retried write with the first
 *       attempt's reply instead of applying it again), follows {@code NotLeaderException}
 *       redirects, and after a transport failure tries another peer. After every failed attempt it
 *       asks this class, which is installed as the client's {@link RetryPolicy}: retry after a
 *       sleep from Ratis' {@link ExponentialBackoffRetry} (25 ms doubling per failure up to 200 ms,
 *       times a random factor in [0.5, 1.5) so that clients that lost the same leader do not retry
 *       in step), unless the next attempt could not start at least {@code min(200 ms, deadline /
 *       10)} before the deadline. Ratis' default policy, retry forever without sleeping, is never
 *       used.
 *   <li><b>One attempt waits at most</b> {@link #attemptTimeout} ({@code
 *       raft.client.rpc.request.timeout}: a third of the deadline, between 100 ms and 3 s), so a
 *       silent server costs one attempt, not the whole deadline.
 *   <li><b>A hard timer</b> completes the call at its deadline whatever Ratis is doing, and
 *       interrupts the worker thread (Ratis' blocking calls and sleeps end on interrupt).
 *   <li><b>A write tries the leader's write gateway first</b> ({@link #writes}): one attempt, which
 *       counts like any other. If it does not settle the write (an answer, or the leader's
 *       refusal), the write goes at once, without a backoff sleep, as a Ratis request, which finds
 *       the leader or waits for a new one under this policy.
 *   <li><b>Leadership moving</b> ({@code LeaderSteppingDownException}, {@code
 *       TransferLeadershipException}) and a server closing the stream ({@code
 *       AlreadyClosedException}) make Ratis' loop give up at once although they are transient. This
 *       class then re-sends the <em>same message</em>, with the same backoff and deadline. That new
 *       Ratis call has a new call id, so the retry cache does not recognise it; the Roost request
 *       id inside the command does: the state machine answers a repeated request id with the first
 *       reply, so the write still applies once.
 *   <li><b>A member that cannot serve a linearizable read now</b> ({@code ReadException}: its state
 *       machine did not reach the read index within the server's read timeout, or, since Ratis 3.3,
 *       it is installing a snapshot and says so at once) would get the same read again from Ratis'
 *       loop, which stays with the member it addresses. This policy ends that loop instead, the
 *       transport moves on to the next member, and this class re-sends the read with the same
 *       backoff and deadline.
 *   <li><b>Calls outside Ratis</b> ({@link AdminClient}'s HTTP requests) run on the caller's thread
 *       ({@link #callOnCaller}) with the same backoff and deadline; an attempt answered {@code
 *       UNAVAILABLE} is retried, any other failure ends the call.
 * </ol>
 *
 * <h2>What a failure means</h2>
 *
 * Each failed attempt is classified: <b>not sent</b> (the connection could not be made), <b>
 * refused</b> (a server answered without taking the request: not the leader, leader not ready,
 * stepping down, overloaded, no read index, cannot serve the read now; the gateway's {@code
 * NOT_TAKEN} and its full queue), or <b>lost</b> (anything else, a gateway answer without a reply
 * included: it may have been taken). When the deadline passes without an answer: if nothing was
 * ever sent, {@code UNAVAILABLE} naming the peers (a definite failure, for writes too); a read with
 * only refusals is {@code UNAVAILABLE} (no leader), otherwise {@code DEADLINE_EXCEEDED}; a write
 * that was sent is {@code DEADLINE_EXCEEDED} with outcome unknown, since even a refusal to a retry
 * does not tell whether an earlier attempt entered the log. A {@code StateMachineException} caused
 * by a {@link RejectedCommandException}, or the gateway's {@code REJECTED}, is the leader's
 * definite refusal with its code.
 *
 * <h2>Why blocking {@code io()} on a pool, not {@code async()}</h2>
 *
 * Ratis' {@code async()} API is ordered: its send blocks the caller once 100 requests ({@code
 * raft.client.async.outstanding-requests.max}) are outstanding, a slow request delays the replies
 * of every later one, and after one request fails terminally (its retry policy gave up, as a
 * deadline makes it do) the sliding window fails <em>every later request of that RaftClient</em>
 * for good. A client that gives up on a call at its deadline must stay usable, so calls go through
 * {@code io()}, which is independent per call, on this class's bounded pool; the asynchronous API
 * is the pool's futures. Calls made concurrently are therefore not ordered with each other: a
 * caller that needs order waits for a call before making the next.
 */
final class ClientRetry implements RetryPolicy {
  private static final Logger LOG = LoggerFactory.getLogger(ClientRetry.class);

  static final TimeDuration BASE_SLEEP = TimeDuration.valueOf(25, TimeUnit.MILLISECONDS);

  /**
   * The longest sleep between attempts. The retry that finds a new leader comes up to one sleep
   * after the election, so this cap adds directly to what a failover costs a client; it stays short
   * next to the servers' election timeout ({@code roost bench failover} measures the whole;
   * docs/performance.md, "Failover and catch-up").
   */
  static final TimeDuration MAX_SLEEP = TimeDuration.valueOf(200, TimeUnit.MILLISECONDS);

  private static final Duration MIN_ATTEMPT_TIMEOUT = Duration.ofMillis(100);
  private static final Duration MAX_ATTEMPT_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration MAX_RESERVE = Duration.ofMillis(200);

  /** Whether a call is a read (no effect) or a write (its outcome may be unknown). */
  enum Kind {
    READ,
    WRITE
  }

  /** What became of one failed attempt. */
  enum Outcome {
    NOT_SENT,
    REFUSED,
    LOST
  }

  /** One blocking call, e.g. {@code Transport::read}. */
  @FunctionalInterface
  interface Attempt {
    Answer send(Message message) throws IOException;
  }

  private final RetryPolicy backoff =
      ExponentialBackoffRetry.newBuilder()
          .setBaseSleepTime(BASE_SLEEP)
          .setMaxSleepTime(MAX_SLEEP)
          .build();
  private final ThreadLocal<Call> current = new ThreadLocal<>();
  private final Duration deadline;
  private final long deadlineNanos;
  private final long reserveNanos;
  private final String peers;
  private final LongSupplier nanoClock;
  private final int maxConcurrentCalls;
  private final int maxQueuedCalls;
  private final ThreadPoolExecutor workers;
  private final ScheduledThreadPoolExecutor timer;
  private volatile boolean closed;

  /**
   * @param deadline the per-call deadline
   * @param peers the peer list, as shown in messages
   * @param maxConcurrentCalls calls running at once (each holds a thread while Ratis retries)
   * @param maxQueuedCalls calls waiting for a thread before new ones fail with RESOURCE_EXHAUSTED
   * @param nanoClock the clock the retry decisions read ({@link System#nanoTime} but in tests)
   */
  ClientRetry(
      Duration deadline,
      String peers,
      int maxConcurrentCalls,
      int maxQueuedCalls,
      LongSupplier nanoClock) {
    if (deadline.isNegative() || deadline.isZero()) {
      throw new IllegalArgumentException("deadline must be positive, got " + deadline);
    }
    if (maxConcurrentCalls < 1 || maxQueuedCalls < 0) {
      throw new IllegalArgumentException(
          "need maxConcurrentCalls >= 1 and maxQueuedCalls >= 0, got "
              + maxConcurrentCalls
              + " and "
              + maxQueuedCalls);
    }
    this.deadline = deadline;
    this.deadlineNanos = deadline.toNanos();
    this.reserveNanos = Math.min(MAX_RESERVE.toNanos(), deadlineNanos / 10);
    this.peers = peers;
    this.nanoClock = nanoClock;
    this.maxConcurrentCalls = maxConcurrentCalls;
    this.maxQueuedCalls = maxQueuedCalls;
    this.workers =
        new ThreadPoolExecutor(
            maxConcurrentCalls,
            maxConcurrentCalls,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(Math.max(1, maxQueuedCalls)),
            daemonThreads("roost-client-"));
    // Idle clients (a CLI between commands) keep no threads.
    workers.allowCoreThreadTimeOut(true);
    this.timer = new ScheduledThreadPoolExecutor(1, daemonThreads("roost-client-deadline-"));
    timer.setRemoveOnCancelPolicy(true);
  }

  /**
   * The per-attempt timeout for Ratis ({@code raft.client.rpc.request.timeout}): a third of the
   * deadline, so that a silent server leaves time for two more attempts, within [100 ms, 3 s].
   */
  static TimeDuration attemptTimeout(Duration deadline) {
    Duration third = deadline.dividedBy(3);
    Duration clamped =
        third.compareTo(MIN_ATTEMPT_TIMEOUT) < 0
            ? MIN_ATTEMPT_TIMEOUT
            : third.compareTo(MAX_ATTEMPT_TIMEOUT) > 0 ? MAX_ATTEMPT_TIMEOUT : third;
    return TimeDuration.valueOf(clamped.toMillis(), TimeUnit.MILLISECONDS);
  }

  Duration deadline() {
    return deadline;
  }

  /** When a call made now must end, on this policy's clock. */
  long deadlineFromNow() {
    return nanoClock.getAsLong() + deadlineNanos;
  }

  /** Now, on this policy's clock. */
  long now() {
    return nanoClock.getAsLong();
  }

  /**
   * Runs {@code attempt} on the pool under this policy. The future completes with the server's
   * answer, or exceptionally with a {@link RoostException}, by the deadline.
   *
   * @param op what the call does, for messages (e.g. "post")
   */
  CompletableFuture<Answer> call(Kind kind, String op, Message message, Attempt attempt) {
    return call(kind, op, message, attempt, nanoClock.getAsLong() + deadlineNanos);
  }

  /**
   * As {@link #call(Kind, String, Message, Attempt)}, but ending by {@code deadlineAtNanos} (on
   * this policy's clock) instead of one deadline from now: a batch ends by the earliest deadline of
   * the calls in it.
   */
  CompletableFuture<Answer> call(
      Kind kind, String op, Message message, Attempt attempt, long deadlineAtNanos) {
    long now = nanoClock.getAsLong();
    Call call = new Call(kind, op, deadlineAtNanos);
    CompletableFuture<Answer> result = new CompletableFuture<>();
    if (closed) {
      result.completeExceptionally(closedClient(call, false));
      return result;
    }
    try {
      ScheduledFuture<?> timeout =
          timer.schedule(
              () -> expire(call, result), Math.max(0, deadlineAtNanos - now), TimeUnit.NANOSECONDS);
      result.whenComplete((r, e) -> timeout.cancel(false));
      workers.execute(new Task(call, message, attempt, result));
    } catch (RejectedExecutionException e) {
      RoostException refused =
          closed
              ? closedClient(call, false)
              : new RoostException(
                  StatusCode.RESOURCE_EXHAUSTED,
                  "too many calls in this client ("
                      + maxConcurrentCalls
                      + " running, "
                      + maxQueuedCalls
                      + " queued); "
                      + op
                      + " was not sent",
                  false);
      if (call.finish()) {
        result.completeExceptionally(refused);
      }
    }
    return result;
  }

  /**
   * Ratis asks after each failed attempt of a blocking call. Outside a call of this class (e.g. the
   * client's one-off group-info lookup) there is no deadline to bound retries: no retry. A {@code
   * ReadException} ends Ratis' loop uncounted: {@link #sendWithRetry} counts it and re-sends the
   * read once the transport has moved to another member.
   */
  @Override
  public Action handleAttemptFailure(Event event) {
    Call call = current.get();
    if (call == null || closed || event.getCause() instanceof ReadException) {
      return NO_RETRY_ACTION;
    }
    return nextAttempt(call, event.getCause());
  }

  /**
   * The policy's answer to a failed attempt of {@code call} that ended with {@code cause}: retry
   * after the backoff's sleep, unless the next attempt could not start in time.
   */
  private Action nextAttempt(Call call, Throwable cause) {
    int failures = call.record(classify(cause), cause);
    TimeDuration sleep = backoff.handleAttemptFailure(() -> failures).getSleepTime();
    long nextStart = nanoClock.getAsLong() + sleep.toLong(TimeUnit.NANOSECONDS);
    if (nextStart + reserveNanos > call.deadlineNanos) {
      LOG.debug("{}: giving up after {} failed attempts, last: {}", call.op, failures, cause);
      return NO_RETRY_ACTION;
    }
    LOG.debug(
        "{}: attempt {} failed ({}), retrying in {} ms",
        call.op,
        failures,
        cause,
        sleep.toLong(TimeUnit.MILLISECONDS));
    return () -> sleep;
  }

  /** One attempt of a call that is not a Ratis call: its result, or a {@link RoostException}. */
  @FunctionalInterface
  interface Step<T> {
    T run();
  }

  /**
   * Runs {@code step} on the caller's thread under this policy, for calls that do not go through
   * Ratis (the admin client's HTTP requests): an attempt that fails with {@code UNAVAILABLE} (no
   * leader known, a member that does not lead or is stepping down, an endpoint that did not answer)
   * is retried after the same backoff as a Ratis attempt, within the same deadline from now. Its
   * exception's cause, if any, is classified as a Ratis attempt's is. Any other code, or a retry
   * that could not start before the deadline, ends the call with that attempt's exception as is.
   *
   * @param op what the call does, for the log
   * @throws RoostException the last attempt's failure; {@code UNAVAILABLE} if interrupted
   */
  <T> T callOnCaller(String op, Step<T> step) {
    // The kind shapes only the exceptions this class makes for Ratis calls; here the last
    // attempt's own exception ends the call.
    Call call = new Call(Kind.READ, op, deadlineFromNow());
    while (true) {
      try {
        return step.run();
      } catch (RoostException e) {
        Action action =
            e.code() != StatusCode.UNAVAILABLE || closed
                ? NO_RETRY_ACTION
                : nextAttempt(call, e.getCause());
        if (!action.shouldRetry()) {
          throw e;
        }
        try {
          action.getSleepTime().sleep();
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new RoostException(StatusCode.UNAVAILABLE, op + ": interrupted", false);
        }
      }
    }
  }

  /**
   * Classifies a failed attempt from the cause Ratis passes to the retry policy. A null cause means
   * Ratis' blocking loop consumed a NotLeaderException or LeaderNotReadyException reply itself: a
   * server answered.
   */
  static Outcome classify(Throwable cause) {
    if (cause == null
        || cause instanceof NotLeaderException
        || cause instanceof LeaderNotReadyException
        || cause instanceof LeaderSteppingDownException
        || cause instanceof TransferLeadershipException
        || cause instanceof ReadIndexException
        || cause instanceof ReadException
        || cause instanceof ResourceUnavailableException
        || cause instanceof NotTaken) {
      return Outcome.REFUSED;
    }
    int depth = 0;
    for (Throwable t = cause; t != null && depth < 16; t = t.getCause(), depth++) {
      if (t instanceof ConnectException
          || t instanceof NoRouteToHostException
          || t instanceof UnknownHostException
          || t instanceof UnresolvedAddressException) {
        return Outcome.NOT_SENT;
      }
    }
    return Outcome.LOST;
  }

  /**
   * The attempt that sends a write over {@code transport}: one attempt through the leader's write
   * gateway, if the transport offers one, then, unless that settled the write, a Ratis request.
   */
  Attempt writes(Transport transport) {
    return message -> {
      GatewayReply reply;
      try {
        reply = transport.submitToGateway(message);
      } catch (IOException e) {
        return afterGateway(e, message, transport);
      }
      if (reply == null) {
        return transport.write(message);
      }
      switch (reply.getOutcome()) {
        case ANSWERED:
          if (!reply.getReply().isEmpty()) {
            return new Answer(RaftPeerId.valueOf(reply.getServerId()), reply.getReply());
          }
          break;
        case REJECTED:
          StatusCode code =
              reply.getCode() == StatusCode.UNRECOGNIZED ? StatusCode.INTERNAL : reply.getCode();
          throw new RoostException(code, reply.getMessage(), false);
        default:
          break;
      }
      return afterGateway(unsettled(reply), message, transport);
    };
  }

  /** After a gateway attempt that failed with {@code failure}: counts it, then Ratis' way. */
  private Answer afterGateway(IOException failure, Message message, Transport transport)
      throws IOException {
    if (!handleAttemptFailure(causeEvent(failure)).shouldRetry()) {
      throw failure;
    }
    return transport.write(message);
  }

  /** The gateway did not take the write: nothing of it was applied. */
  static final class NotTaken extends IOException {
    NotTaken(String message) {
      super(message);
    }
  }

  /**
   * The failure that a gateway answer which neither carries a reply nor is a refusal stands for:
   * {@link NotTaken}, or one that leaves the write's outcome unknown.
   */
  private static IOException unsettled(GatewayReply reply) {
    String from = "write gateway of " + reply.getServerId() + ": ";
    if (reply.getOutcome() == GatewayReply.Outcome.NOT_TAKEN) {
      String leader =
          reply.getLeaderId().isEmpty() ? "" : " (the leader is " + reply.getLeaderId() + ")";
      return new NotTaken(from + "not taken" + leader + ": " + reply.getMessage());
    }
    return new IOException(
        from
            + "outcome unknown: "
            + (reply.getMessage().isEmpty() ? "no reply in the answer" : reply.getMessage()));
  }

  /** Stops new calls and ends running ones, which fail with FAILED_PRECONDITION. */
  void close() {
    closed = true;
    for (Runnable queued : workers.shutdownNow()) {
      // A queued call was never sent; completing it here beats waiting for its deadline.
      if (queued instanceof Task task && task.call.finish()) {
        task.result.completeExceptionally(closedClient(task.call, false));
      }
    }
    // Deadline timers still pending fire (the default after shutdown()), so that a call whose
    // worker ignored the interrupt still completes.
    timer.shutdown();
  }

  private void run(Call call, Message message, Attempt attempt, CompletableFuture<Answer> result) {
    if (!call.start()) {
      return;
    }
    current.set(call);
    Answer reply = null;
    Throwable failure = null;
    try {
      reply = sendWithRetry(call, message, attempt);
    } catch (IOException | RuntimeException | InterruptedException | Error e) {
      failure = e;
    } finally {
      current.remove();
    }
    boolean mine = call.finish();
    // Clears an interrupt from expire() that raced with the end of the Ratis call, so that it
    // cannot hit the next call on this thread.
    Thread.interrupted();
    if (!mine) {
      return;
    }
    if (reply != null) {
      result.complete(reply);
    } else {
      result.completeExceptionally(toRoostException(call, failure));
    }
  }

  private Answer sendWithRetry(Call call, Message message, Attempt attempt)
      throws IOException, InterruptedException {
    while (true) {
      try {
        return attempt.send(message);
      } catch (LeaderSteppingDownException
          | TransferLeadershipException
          | AlreadyClosedException
          | ReadException e) {
        Action action = closed ? NO_RETRY_ACTION : nextAttempt(call, e);
        if (!action.shouldRetry()) {
          throw e;
        }
        action.getSleepTime().sleep();
      }
    }
  }

  /** The event of a failed attempt that ended with {@code cause}. */
  static Event causeEvent(Throwable cause) {
    return new Event() {
      @Override
      public int getAttemptCount() {
        return 0;
      }

      @Override
      public Throwable getCause() {
        return cause;
      }
    };
  }

  /** The hard deadline: completes the call unless its worker already did. */
  private void expire(Call call, CompletableFuture<Answer> result) {
    RoostException e;
    synchronized (call) {
      if (call.finished) {
        return;
      }
      call.finished = true;
      e =
          call.started
              ? noAnswer(call, true)
              : new RoostException(
                  StatusCode.DEADLINE_EXCEEDED,
                  call.op
                      + " waited its whole deadline of "
                      + format(deadline)
                      + " for a free client thread and was not sent",
                  false);
      if (call.worker != null) {
        call.worker.interrupt();
      }
    }
    result.completeExceptionally(e);
  }

  /** Maps what ended a call without a reply to the one exception type. */
  private RoostException toRoostException(Call call, Throwable failure) {
    if (failure instanceof RoostException settled) {
      return settled;
    }
    if (failure instanceof StateMachineException sme) {
      if (sme.getCause() instanceof RejectedCommandException rejected) {
        return new RoostException(rejected.code(), rejected.detail(), false, null, null);
      }
      return new RoostException(
          StatusCode.INTERNAL,
          call.op + " failed in the server's state machine: " + sme.getMessage(),
          false,
          null,
          sme);
    }
    if (closed) {
      return closedClient(call, true);
    }
    // Ratis wraps the last attempt's cause when it gives up (already recorded); an exception it
    // threw at once was never shown to the policy. A group mismatch is a refusal of this attempt
    // only: whether the write is unknown depends on the attempts before it.
    if (failure instanceof IOException
        && failure != call.lastCause()
        && !(failure instanceof RaftRetryFailureException)
        && !(failure instanceof GroupMismatchException)) {
      call.record(classify(failure), failure);
    }
    boolean unknown = call.kind == Kind.WRITE && call.maybeDelivered(false);
    if (failure instanceof GroupMismatchException) {
      return new RoostException(
          StatusCode.FAILED_PRECONDITION,
          "a server in the peer list "
              + peers
              + " does not serve the Roost group: "
              + failure.getMessage()
              + mayHaveApplied(unknown),
          unknown,
          null,
          failure);
    }
    if (!(failure instanceof IOException)) {
      return new RoostException(
          StatusCode.INTERNAL,
          call.op + " failed in the client: " + failure + mayHaveApplied(unknown),
          unknown,
          null,
          failure);
    }
    return noAnswer(call, false);
  }

  /** The deadline passed (or Ratis stopped retrying near it) without an answer. */
  private RoostException noAnswer(Call call, boolean attemptInFlight) {
    synchronized (call) {
      String within = " within " + format(deadline);
      String last =
          call.lastCause == null ? "" : " (last error: " + rootMessage(call.lastCause) + ")";
      if (!call.maybeDelivered(attemptInFlight)) {
        return new RoostException(
            StatusCode.UNAVAILABLE,
            "no Roost server reachable" + within + "; tried " + peers + last,
            false);
      }
      if (call.kind == Kind.READ) {
        if (call.lost == 0 && !attemptInFlight) {
          return new RoostException(
              StatusCode.UNAVAILABLE,
              "no leader answered"
                  + within
                  + " (is a majority of the group up?); tried "
                  + peers
                  + last,
              false);
        }
        return new RoostException(
            StatusCode.DEADLINE_EXCEEDED, call.op + ": no answer" + within + last, false);
      }
      return new RoostException(
          StatusCode.DEADLINE_EXCEEDED,
          call.op + ": no answer" + within + last + mayHaveApplied(true),
          true);
    }
  }

  private RoostException closedClient(Call call, boolean mayHaveStarted) {
    boolean unknown = mayHaveStarted && call.kind == Kind.WRITE && call.maybeDelivered(true);
    return new RoostException(
        StatusCode.FAILED_PRECONDITION,
        "the client is closed; "
            + call.op
            + (unknown ? " was cut short" : " was not sent")
            + mayHaveApplied(unknown),
        unknown);
  }

  private static String mayHaveApplied(boolean unknown) {
    return unknown ? "; the write may or may not have been applied" : "";
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    for (int depth = 0; root.getCause() != null && depth < 16; depth++) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }

  static String format(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** The state of one call, shared by its worker, the retry policy and its deadline timer. */
  static final class Call {
    final Kind kind;
    final String op;
    final long deadlineNanos;
    private int notSent;
    private int refused;
    private int lost;
    private Throwable lastCause;
    private Thread worker;
    private boolean started;
    private boolean finished;

    Call(Kind kind, String op, long deadlineNanos) {
      this.kind = kind;
      this.op = op;
      this.deadlineNanos = deadlineNanos;
    }

    /** Records a failed attempt; returns the number of failed attempts so far. */
    synchronized int record(Outcome outcome, Throwable cause) {
      switch (outcome) {
        case NOT_SENT -> notSent++;
        case REFUSED -> refused++;
        case LOST -> lost++;
      }
      if (cause != null) {
        lastCause = cause;
      }
      return notSent + refused + lost;
    }

    synchronized Throwable lastCause() {
      return lastCause;
    }

    /** Whether a server may have received the request (always, while an attempt is running). */
    synchronized boolean maybeDelivered(boolean attemptInFlight) {
      return attemptInFlight || refused > 0 || lost > 0;
    }

    /** The worker takes the call; false if its deadline already completed it. */
    synchronized boolean start() {
      if (finished) {
        return false;
      }
      started = true;
      worker = Thread.currentThread();
      return true;
    }

    /** Takes the right to complete the call; false if someone already did. */
    synchronized boolean finish() {
      worker = null;
      if (finished) {
        return false;
      }
      finished = true;
      return true;
    }
  }

  /** A queued call, recognisable in {@link ThreadPoolExecutor#shutdownNow()}'s list. */
  private final class Task implements Runnable {
    final Call call;
    final Message message;
    final Attempt attempt;
    final CompletableFuture<Answer> result;

    Task(Call call, Message message, Attempt attempt, CompletableFuture<Answer> result) {
      this.call = call;
      this.message = message;
      this.attempt = attempt;
      this.result = result;
    }

    @Override
    public void run() {
      ClientRetry.this.run(call, message, attempt, result);
    }
  }
}

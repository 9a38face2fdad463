package dev.roost.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.roost.api.Peers;
import dev.roost.client.ClientRetry.Kind;
import dev.roost.client.ClientRetry.Outcome;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ClientRetryTest {
  private static final String PEERS = "n1=127.0.0.1:7001";
  private static final Message MESSAGE = Message.valueOf("m");
  private static final RaftGroupMemberId N1 =
      RaftGroupMemberId.valueOf(RaftPeerId.valueOf("n1"), Peers.GROUP_ID);

  private final List<ClientRetry> toClose = new ArrayList<>();

  @AfterEach
  void close() {
    toClose.forEach(ClientRetry::close);
  }

  @Test
  void attemptTimeoutIsAThirdOfTheDeadlineWithinBounds() {
    assertThat(ClientRetry.attemptTimeout(Duration.ofSeconds(10)).toLong(TimeUnit.MILLISECONDS))
        .isEqualTo(3000);
    assertThat(ClientRetry.attemptTimeout(Duration.ofMillis(1500)).toLong(TimeUnit.MILLISECONDS))
        .isEqualTo(500);
    assertThat(ClientRetry.attemptTimeout(Duration.ofMillis(150)).toLong(TimeUnit.MILLISECONDS))
        .isEqualTo(100);
  }

  @Test
  void classifiesFailedAttempts() {
    // Ratis' blocking loop passes no cause when a server answered "not the leader (yet)".
    assertThat(ClientRetry.classify(null)).isEqualTo(Outcome.REFUSED);
    assertThat(ClientRetry.classify(new NotLeaderException(N1, null, List.of())))
        .isEqualTo(Outcome.REFUSED);
    assertThat(ClientRetry.classify(new LeaderNotReadyException(N1))).isEqualTo(Outcome.REFUSED);
    // The write gateway's full queue, and its answer from a member that is not the leader.
    assertThat(ClientRetry.classify(new ResourceUnavailableException("full")))
        .isEqualTo(Outcome.REFUSED);
    assertThat(ClientRetry.classify(new ClientRetry.NotTaken("not the leader")))
        .isEqualTo(Outcome.REFUSED);
    // A member installing a snapshot, or whose state machine lags the read index.
    assertThat(ClientRetry.classify(new ReadException("installing a snapshot")))
        .isEqualTo(Outcome.REFUSED);
    // As gRPC reports a refused connection or an unknown host, wrapped by Ratis.
    assertThat(
            ClientRetry.classify(
                new IOException(new RuntimeException(new ConnectException("refused")))))
        .isEqualTo(Outcome.NOT_SENT);
    assertThat(ClientRetry.classify(new IOException(new UnknownHostException("nope"))))
        .isEqualTo(Outcome.NOT_SENT);
    // A timeout or a broken stream may have delivered the request.
    assertThat(ClientRetry.classify(new TimeoutIOException("timed out"))).isEqualTo(Outcome.LOST);
    assertThat(ClientRetry.classify(new IOException("stream reset"))).isEqualTo(Outcome.LOST);
  }

  @Test
  void backsOffExponentiallyWithJitterAndStopsBeforeTheDeadline() {
    AtomicLong clock = new AtomicLong();
    ClientRetry retry = retry(Duration.ofSeconds(10), 1, 1, clock);
    List<TimeDuration> sleeps = new ArrayList<>();

    // Every attempt times out; the fake clock advances by each sleep the policy asks for.
    CompletableFuture<Answer> call =
        retry.call(
            Kind.WRITE,
            "post",
            MESSAGE,
            m -> {
              while (true) {
                RetryPolicy.Action action =
                    retry.handleAttemptFailure(event(new TimeoutIOException("timed out")));
                if (!action.shouldRetry()) {
                  throw new TimeoutIOException("timed out");
                }
                sleeps.add(action.getSleepTime());
                clock.addAndGet(action.getSleepTime().toLong(TimeUnit.NANOSECONDS));
              }
            });

    RoostException e = failure(call);
    assertThat(e.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
    assertThat(e.outcomeUnknown()).isTrue();
    double maxSleepMs = ClientRetry.MAX_SLEEP.toLong(TimeUnit.MILLISECONDS);
    for (int i = 0; i < sleeps.size(); i++) {
      int failures = i + 1;
      double nominal = Math.min(25 * Math.pow(2, failures), maxSleepMs);
      assertThat((double) sleeps.get(i).toLong(TimeUnit.MICROSECONDS) / 1000)
          .as("sleep after failure %d", failures)
          .isBetween(0.5 * nominal, 1.5 * nominal);
    }
    double total = clock.get() / 1e9;
    // It stopped because the next attempt would start within 200 ms of the deadline, and a
    // sleep is at most 1.5 times the longest.
    assertThat(total)
        .isLessThanOrEqualTo(10 - 0.2)
        .isGreaterThan(10 - 0.2 - 1.5 * maxSleepMs / 1000);
    assertThat(sleeps).hasSizeGreaterThan(10);
  }

  @Test
  void aReadExceptionEndsRatisLoopAndTheReadIsSentAgain() {
    ClientRetry retry = retry(Duration.ofSeconds(10), 1, 1, null);
    AtomicInteger attempts = new AtomicInteger();
    List<Boolean> ratisRetries = new ArrayList<>();

    CompletableFuture<Answer> call =
        retry.call(
            Kind.READ,
            "get user",
            MESSAGE,
            m -> {
              if (attempts.incrementAndGet() == 1) {
                ReadException refused = new ReadException("n2 is installing a snapshot");
                ratisRetries.add(retry.handleAttemptFailure(event(refused)).shouldRetry());
                throw refused;
              }
              return new Answer(RaftPeerId.valueOf("n3"), null);
            });

    assertThat(call.join().server()).isEqualTo(RaftPeerId.valueOf("n3"));
    assertThat(ratisRetries).containsExactly(false);
    assertThat(attempts).hasValue(2);
  }

  @Test
  void doesNotRetryOutsideACall() {
    ClientRetry retry = retry(Duration.ofSeconds(10), 1, 1, new AtomicLong());

    assertThat(retry.handleAttemptFailure(event(new TimeoutIOException("x"))).shouldRetry())
        .isFalse();
  }

  @Test
  void aFullQueueIsResourceExhaustedAndNothingIsSent() throws Exception {
    ClientRetry retry = retry(Duration.ofSeconds(10), 1, 1, null);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger attempts = new AtomicInteger();
    ClientRetry.Attempt blocking =
        m -> {
          attempts.incrementAndGet();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          throw new IOException("released");
        };

    retry.call(Kind.READ, "first", MESSAGE, blocking);
    retry.call(Kind.READ, "queued", MESSAGE, blocking);
    RoostException third = failure(retry.call(Kind.WRITE, "third", MESSAGE, blocking));

    assertThat(third.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
    assertThat(third.outcomeUnknown()).isFalse();
    release.countDown();
  }

  @Test
  void aCallQueuedPastItsDeadlineIsNotSent() {
    ClientRetry retry = retry(Duration.ofMillis(200), 1, 10, null);
    AtomicInteger sent = new AtomicInteger();

    // The first call holds the only thread for 600 ms, ignoring the interrupt at its deadline.
    retry.call(
        Kind.READ,
        "slow",
        MESSAGE,
        m -> {
          long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(600);
          while (System.nanoTime() < end) {
            Thread.onSpinWait();
          }
          throw new IOException("done");
        });
    RoostException queued =
        failure(
            retry.call(
                Kind.WRITE,
                "queued write",
                MESSAGE,
                m -> {
                  sent.incrementAndGet();
                  throw new IOException("should not run");
                }));

    assertThat(queued.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
    assertThat(queued.outcomeUnknown()).isFalse();
    assertThat(queued.getMessage()).contains("not sent");
    assertThat(sent).hasValue(0);
  }

  @Test
  void theHardDeadlineBeatsAHungAttempt() {
    ClientRetry retry = retry(Duration.ofMillis(300), 1, 1, null);
    long start = System.nanoTime();

    RoostException e =
        failure(
            retry.call(
                Kind.READ,
                "hung read",
                MESSAGE,
                m -> {
                  try {
                    Thread.sleep(60_000);
                  } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                  }
                  throw new IOException("interrupted");
                }));

    assertThat(e.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
    assertThat(e.outcomeUnknown()).isFalse();
    // At the deadline, give or take the scheduling of a busy machine.
    assertThat((System.nanoTime() - start) / 1e9).isBetween(0.29, 1.0);
  }

  @Test
  void aCallOnTheCallersThreadRetriesUnavailableUntilTheDeadlineAndNothingElse() {
    AtomicLong clock = new AtomicLong();
    ClientRetry retry = retry(Duration.ofSeconds(1), 1, 0, clock);
    AtomicInteger attempts = new AtomicInteger();

    // Each attempt takes 300 ms of the 1 s deadline: the fourth could not start in time.
    RoostException last =
        catchThrowableOfType(
            RoostException.class,
            () ->
                retry.callOnCaller(
                    "transfer n2",
                    () -> {
                      clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(300));
                      throw new RoostException(
                          StatusCode.UNAVAILABLE, "attempt " + attempts.incrementAndGet(), false);
                    }));
    assertThat(last.getMessage()).isEqualTo("attempt " + attempts.get());
    assertThat(attempts.get()).isEqualTo(3);

    attempts.set(0);
    RoostException refused =
        catchThrowableOfType(
            RoostException.class,
            () ->
                retry.callOnCaller(
                    "add n4",
                    () -> {
                      attempts.incrementAndGet();
                      throw new RoostException(StatusCode.ALREADY_EXISTS, "n4 exists", false);
                    }));
    assertThat(refused.code()).isEqualTo(StatusCode.ALREADY_EXISTS);
    assertThat(attempts.get()).isEqualTo(1);
    assertThat(retry.callOnCaller("snapshot", () -> "done")).isEqualTo("done");
  }

  private ClientRetry retry(Duration deadline, int concurrent, int queued, AtomicLong clock) {
    ClientRetry retry =
        new ClientRetry(
            deadline, PEERS, concurrent, queued, clock == null ? System::nanoTime : clock::get);
    toClose.add(retry);
    return retry;
  }

  private static RoostException failure(CompletableFuture<?> future) {
    try {
      future.join();
    } catch (CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(RoostException.class);
      return (RoostException) e.getCause();
    }
    throw new AssertionError("expected the call to fail");
  }

  private static RetryPolicy.Event event(Throwable cause) {
    return new RetryPolicy.Event() {
      @Override
      public int getAttemptCount() {
        return 1;
      }

      @Override
      public Throwable getCause() {
        return cause;
      }
    };
  }
}

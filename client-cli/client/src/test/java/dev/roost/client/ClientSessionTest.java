package dev.roost.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.proto.RequestId;
import dev.roost.proto.Session;
import dev.roost.proto.StatusCode;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** When a client opens a new session, and what its writes tell the servers. */
class ClientSessionTest {
  private final AtomicLong clock = new AtomicLong();
  private final AtomicLong opened = new AtomicLong();
  private volatile boolean failOpening;
  private final ClientSession sessions =
      new ClientSession(
          () ->
              failOpening
                  ? CompletableFuture.failedFuture(
                      new RoostException(StatusCode.UNAVAILABLE, "down", false))
                  : CompletableFuture.completedFuture(
                      Session.newBuilder()
                          .setId(opened.incrementAndGet())
                          .setTimeoutMs(10_000)
                          .build()),
          clock::get);

  private long current() {
    return sessions.session().join().id;
  }

  @Test
  void oneSessionServesWritesWhileItIsInUse() {
    assertThat(sessions.id()).isZero();
    ClientSession.Opened s = sessions.session().join();
    for (int i = 0; i < 10; i++) {
      clock.addAndGet(TimeUnit.SECONDS.toNanos(4)); // under half the timeout between writes
      sessions.answered(s, sessions.number(sessions.session().join()).getSequence());
    }
    assertThat(opened).hasValue(1);
    assertThat(sessions.id()).isEqualTo(1);
  }

  @Test
  void aSessionIdleForHalfItsTimeoutIsReplacedBeforeTheClusterExpiresIt() {
    assertThat(current()).isEqualTo(1);
    clock.addAndGet(TimeUnit.SECONDS.toNanos(5) + 1);
    assertThat(current()).isEqualTo(2);
  }

  @Test
  void anExpiredSessionIsReplacedAndAFailedOpeningIsTriedAgain() {
    ClientSession.Opened first = sessions.session().join();
    sessions.expired(first);
    failOpening = true;
    assertThat(sessions.session()).isCompletedExceptionally();
    failOpening = false;
    assertThat(current()).isEqualTo(2);
  }

  @Test
  void writesSayWhichRepliesTheClientHasSeen() {
    ClientSession.Opened s = sessions.session().join();
    RequestId first = sessions.number(s);
    RequestId second = sessions.number(s);
    assertThat(second.getFirstUnanswered()).isEqualTo(1);
    sessions.answered(s, first.getSequence());
    RequestId third = sessions.number(s);
    assertThat(third.getSequence()).isEqualTo(3);
    assertThat(third.getFirstUnanswered()).isEqualTo(2);
    sessions.answered(s, second.getSequence());
    sessions.answered(s, third.getSequence());
    assertThat(sessions.number(s).getFirstUnanswered()).isEqualTo(4);
  }
}

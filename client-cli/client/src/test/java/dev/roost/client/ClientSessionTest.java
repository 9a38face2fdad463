package dev.roost.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.proto.RequestId;
import dev.roost.proto.Session;
import dev.roost.proto.StatusCode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

  /** One write of the race below: its ids, and when (in one global order) it was numbered. */
  private record Numbered(long sequence, long firstUnanswered, long numberedAt, long answeredAt) {}

  @Test
  void noWriteClaimsAFirstUnansweredAboveAWriteStillOut() throws Exception {
    ClientSession.Opened s = sessions.session().join();
    AtomicLong order = new AtomicLong();
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Numbered> all = new ArrayList<>();
    try {
      List<Future<List<Numbered>>> work = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        work.add(
            pool.submit(
                () -> {
                  List<Numbered> mine = new ArrayList<>();
                  for (int i = 0; i < 50_000; i++) {
                    RequestId id = sessions.number(s);
                    long numberedAt = order.incrementAndGet();
                    long answeredAt = order.incrementAndGet();
                    sessions.answered(s, id.getSequence());
                    mine.add(
                        new Numbered(
                            id.getSequence(), id.getFirstUnanswered(), numberedAt, answeredAt));
                  }
                  return mine;
                }));
      }
      for (Future<List<Numbered>> w : work) {
        all.addAll(w.get(60, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
    // A write Y may claim first-unanswered F only if every write below F was answered before Y
    // was numbered: the latest answer among sequences below F must come before Y's numbering.
    all.sort(java.util.Comparator.comparingLong(Numbered::sequence));
    long[] latestAnswerBelow = new long[all.size() + 2];
    for (int k = 0; k < all.size(); k++) {
      latestAnswerBelow[k + 1] = Math.max(latestAnswerBelow[k], all.get(k).answeredAt());
    }
    for (Numbered y : all) {
      // Sequences start at 1 and have no gaps: those below F are the first F-1 of the list.
      long answeredLast = latestAnswerBelow[(int) y.firstUnanswered() - 1];
      assertThat(answeredLast)
          .as("write %d claims %d first unanswered", y.sequence(), y.firstUnanswered())
          .isLessThan(y.numberedAt());
    }
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

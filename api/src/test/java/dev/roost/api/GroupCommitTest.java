package dev.roost.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class GroupCommitTest {
  /** A call: its name, its weight, its bytes. */
  private record Call(String name, int weight, int bytes) {}

  /** Records every request and leaves each outstanding until the test finishes it. */
  private static final class Recorder implements GroupCommit.Requests<Call> {
    final List<List<String>> sent = new CopyOnWriteArrayList<>();
    final List<CompletableFuture<Void>> outstanding = new CopyOnWriteArrayList<>();
    final List<String> leftOut = new CopyOnWriteArrayList<>();
    volatile Set<String> gone = Set.of();
    volatile boolean finishAtOnce;

    @Override
    public int weight(Call call) {
      return call.weight;
    }

    @Override
    public int bytes(Call call) {
      return call.bytes;
    }

    @Override
    public boolean leaveOut(Call call) {
      return gone.contains(call.name);
    }

    @Override
    public void leftOut(Call call) {
      leftOut.add(call.name);
    }

    @Override
    public CompletableFuture<?> send(List<Call> calls) {
      sent.add(calls.stream().map(Call::name).toList());
      CompletableFuture<Void> done = new CompletableFuture<>();
      if (finishAtOnce) {
        done.complete(null);
      } else {
        outstanding.add(done);
      }
      return done;
    }

    void finish(int request) {
      outstanding.get(request).complete(null);
    }
  }

  private final Recorder requests = new Recorder();

  private static Call call(String name) {
    return new Call(name, 1, 10);
  }

  @Test
  void aCallThatFindsASlotFreeGoesAtOnceAlone() {
    GroupCommit<Call> group = new GroupCommit<>(1, 100, 1000, 100, Long.MAX_VALUE, requests);

    assertThat(group.submit(call("a"))).isNull();

    assertThat(requests.sent).containsExactly(List.of("a"));
    assertThat(group.queued()).isZero();
  }

  @Test
  void callsMadeWhileTheRequestIsOutGoTogetherInOrderWithinTheLimits() {
    GroupCommit<Call> group = new GroupCommit<>(1, 4, 35, 100, Long.MAX_VALUE, requests);
    group.submit(call("a"));
    // Weights 2 + 2 fill the next request; bytes 10 + 10 + 10 fill the one after.
    group.submit(new Call("b", 2, 10));
    group.submit(new Call("c", 2, 10));
    group.submit(call("d"));
    group.submit(call("e"));
    group.submit(call("f"));
    group.submit(call("g"));
    assertThat(group.queued()).isEqualTo(6);

    requests.finish(0);
    requests.finish(1);
    requests.finish(2);

    assertThat(requests.sent)
        .containsExactly(List.of("a"), List.of("b", "c"), List.of("d", "e", "f"), List.of("g"));
  }

  @Test
  void aCallOverTheLimitsStillGoesAlone() {
    GroupCommit<Call> group = new GroupCommit<>(1, 4, 35, 100, Long.MAX_VALUE, requests);
    group.submit(call("a"));
    group.submit(new Call("big", 9, 99));
    group.submit(call("b"));

    requests.finish(0);
    requests.finish(1);

    assertThat(requests.sent).containsExactly(List.of("a"), List.of("big"), List.of("b"));
  }

  @Test
  void callsLeftOutAreReportedAndNotSent() {
    GroupCommit<Call> group = new GroupCommit<>(1, 100, 1000, 100, Long.MAX_VALUE, requests);
    group.submit(call("a"));
    group.submit(call("b"));
    group.submit(call("c"));
    requests.gone = Set.of("b");

    requests.finish(0);

    assertThat(requests.sent).containsExactly(List.of("a"), List.of("c"));
    assertThat(requests.leftOut).containsExactly("b");
  }

  @Test
  void aFullQueueAndAClosedGroupRefuseAndSendNothing() {
    GroupCommit<Call> group = new GroupCommit<>(1, 100, 1000, 2, Long.MAX_VALUE, requests);
    group.submit(call("a"));
    group.submit(call("b"));
    group.submit(call("c"));

    assertThat(group.submit(call("d"))).isEqualTo(GroupCommit.Refusal.FULL);
    assertThat(group.close()).extracting(Call::name).containsExactly("b", "c");
    assertThat(group.submit(call("e"))).isEqualTo(GroupCommit.Refusal.CLOSED);
    requests.finish(0);
    assertThat(requests.sent).containsExactly(List.of("a"));
  }

  @Test
  void waitingBytesAreBoundedAndFreedAsCallsGoOut() {
    GroupCommit<Call> group = new GroupCommit<>(1, 100, 1000, 100, 25, requests);
    group.submit(call("sent at once"));
    assertThat(group.submit(new Call("big", 1, 20))).isNull();
    assertThat(group.submit(call("over"))).isEqualTo(GroupCommit.Refusal.FULL);

    requests.finish(0);
    assertThat(group.submit(new Call("fits again", 1, 20))).isNull();
    assertThat(requests.sent).containsExactly(List.of("sent at once"), List.of("big"));
  }

  @Test
  void anEmptyQueueTakesACallLargerThanTheByteBound() {
    GroupCommit<Call> group = new GroupCommit<>(1, 100, 1000, 100, 5, requests);
    group.submit(call("sent at once"));
    assertThat(group.submit(call("waits alone"))).isNull();
    assertThat(group.submit(call("second"))).isEqualTo(GroupCommit.Refusal.FULL);
  }

  @Test
  void requestsThatFinishAtOnceAreFollowedInALoopNotARecursion() {
    GroupCommit<Call> group = new GroupCommit<>(1, 1, 1000, 10_000, Long.MAX_VALUE, requests);
    group.submit(call("first"));
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      names.add("c" + i);
      group.submit(call("c" + i));
    }
    requests.finishAtOnce = true;

    requests.finish(0);

    assertThat(requests.sent).hasSize(5_001);
    assertThat(requests.sent.get(5_000)).containsExactly(names.get(4_999));
    // The slot came back: the next call goes at once.
    group.submit(call("last"));
    assertThat(requests.sent.get(5_001)).containsExactly("last");
  }

  @Test
  void aSendThatThrowsStillFreesItsSlot() {
    GroupCommit<Call> group =
        new GroupCommit<>(
            1,
            100,
            1000,
            100,
            Long.MAX_VALUE,
            new GroupCommit.Requests<>() {
              @Override
              public int weight(Call call) {
                return 1;
              }

              @Override
              public int bytes(Call call) {
                return 1;
              }

              @Override
              public boolean leaveOut(Call call) {
                return false;
              }

              @Override
              public void leftOut(Call call) {}

              @Override
              public CompletableFuture<?> send(List<Call> calls) {
                requests.sent.add(calls.stream().map(Call::name).toList());
                throw new IllegalStateException("owner bug");
              }
            });

    group.submit(call("a"));
    group.submit(call("b"));

    assertThat(requests.sent).containsExactly(List.of("a"), List.of("b"));
  }
}

package dev.roost.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roost.bench.LoadGenerator.Caller;
import dev.roost.bench.LoadGenerator.Load;
import dev.roost.bench.LoadGenerator.Result;
import dev.roost.client.RoostException;
import dev.roost.proto.StatusCode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Constructor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The measuring core against in-memory callers: no cluster, no network. */
class LoadGeneratorTest {
  private final StringWriter progress = new StringWriter();

  @Test
  void countsAnsweredCallsAndErrorsByCodeWithinTheDuration() throws Exception {
    Load load = load(4, 1, Duration.ZERO, 0);
    List<Thread> threads = new CopyOnWriteArrayList<>();
    long began = System.nanoTime();

    // Caller 0 succeeds; 1 fails UNAVAILABLE every 4th call; 2 has a write of unknown outcome
    // every 4th call; 3 throws something that is not a RoostException every 4th call.
    Result r =
        LoadGenerator.measure(
            load,
            i -> {
              AtomicLong calls = new AtomicLong();
              return () -> {
                threads.add(Thread.currentThread());
                Thread.sleep(1);
                if (i > 0 && calls.incrementAndGet() % 4 == 0) {
                  throw switch (i) {
                    case 1 -> roostException(StatusCode.UNAVAILABLE, false);
                    case 2 -> new CompletionException(roostException(StatusCode.ABORTED, true));
                    default -> new IllegalStateException("boom");
                  };
                }
              };
            },
            new PrintWriter(progress));

    double wallSeconds = (System.nanoTime() - began) / 1e9;
    assertThat(r.seconds()).isBetween(1.0, 1.5);
    assertThat(wallSeconds).isLessThan(3.0);
    assertThat(threads).allSatisfy(t -> assertThat(t.isAlive()).isFalse());
    assertThat(r.ops()).isPositive().isEqualTo(r.latencyMicros().getTotalCount());
    assertThat(r.latencyMicros().getValueAtPercentile(50)).isGreaterThanOrEqualTo(1000);
    assertThat(r.errors())
        .containsOnlyKeys("UNAVAILABLE", "ABORTED (unknown)", "IllegalStateException");
    // Three callers of four succeed on 3 calls of 4, the other on all.
    long errors = r.errors().values().stream().mapToLong(Long::longValue).sum();
    assertThat((double) errors / (r.ops() + errors)).isBetween(0.1, 0.3);
    assertThat(progress.toString()).contains("measure");
  }

  @Test
  void theWarmUpIsNotCounted() throws Exception {
    AtomicLong calls = new AtomicLong();
    Result r =
        LoadGenerator.measure(
            load(2, 1, Duration.ofSeconds(1), 0),
            i -> sleepingCaller(calls),
            new PrintWriter(progress));

    assertThat(r.ops()).isPositive();
    assertThat(calls.get()).isGreaterThan(r.ops() + r.ops() / 2);
  }

  @Test
  void anOpenLoopKeepsToTheRate() throws Exception {
    Result r =
        LoadGenerator.measure(
            load(2, 2, Duration.ZERO, 200),
            i -> sleepingCaller(new AtomicLong()),
            new PrintWriter(progress));

    assertThat(r.throughput()).isBetween(150.0, 250.0);
  }

  @Test
  void connectionsAreSharedByAtMostAllCallers() {
    assertThat(new Load("s", "w", 64, 2, 3, "c", Duration.ofSeconds(1), Duration.ZERO, 0))
        .extracting(Load::callers)
        .isEqualTo(128);
    assertThatThrownBy(
            () -> new Load("s", "w", 2, 1, 3, "c", Duration.ofSeconds(1), Duration.ZERO, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("connections");
  }

  private static Load load(int clients, int inFlight, Duration warmup, double rate) {
    return new Load(
        "fake", "sleep", clients, inFlight, 1, "none", Duration.ofSeconds(1), warmup, rate);
  }

  private static Caller sleepingCaller(AtomicLong calls) {
    return () -> {
      calls.incrementAndGet();
      Thread.sleep(1);
    };
  }

  /** RoostException's constructors belong to the client library; tests reach one reflectively. */
  private static RoostException roostException(StatusCode code, boolean outcomeUnknown) {
    try {
      Constructor<RoostException> c =
          RoostException.class.getDeclaredConstructor(
              StatusCode.class, String.class, boolean.class);
      c.setAccessible(true);
      return c.newInstance(code, code.name(), outcomeUnknown);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }
}

package dev.roost.bench;

import dev.roost.client.RoostException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Measures a load of concurrent callers, whatever store they talk to: closed loop (each caller
 * sends its next request when the previous one is answered) or open loop (a target rate in total;
 * latency counted from when each request was due, so a stall is charged to every request it delayed
 * — the coordinated-omission correction). A warm-up runs first and is not counted; a progress line
 * goes out every second. {@code roost bench} ({@link RoostLoad}) and the {@code bench} module's
 * store comparison both measure through {@link #measure}.
 */
public final class LoadGenerator {
  private LoadGenerator() {}

  /**
   * One caller's next request: sends it and returns when it is answered. Called over and over by
   * one thread only. Throwing counts the request as an error (see {@link #errorName}), not as an
   * operation, and the caller goes on with its next request.
   */
  @FunctionalInterface
  public interface Caller {
    void call() throws Exception;
  }

  /**
   * What is measured and how it is labelled. Callers are {@code clients x inFlight}; they share
   * {@code connections} store clients round-robin (the factory given to {@link #measure} does the
   * sharing; the number is here to be reported). {@code rate} is requests per second in total, 0
   * for closed loop.
   */
  public record Load(
      String store,
      String workload,
      int clients,
      int inFlight,
      int connections,
      String consistency,
      Duration duration,
      Duration warmup,
      double rate) {
    public Load {
      if (clients < 1 || inFlight < 1 || connections < 1 || connections > clients) {
        throw new IllegalArgumentException(
            "need clients >= 1, in-flight >= 1 and 1 <= connections <= clients");
      }
      if (duration.compareTo(Duration.ofSeconds(1)) < 0 || warmup.isNegative() || rate < 0) {
        throw new IllegalArgumentException(
            "need duration >= 1 s, warm-up >= 0 and rate >= 0 (0 = closed loop)");
      }
    }

    /** The number of callers, each with one request at a time. */
    public int callers() {
      return clients * inFlight;
    }
  }

  /**
   * The measured outcome: operations answered while measuring, the measured seconds, their
   * latencies in microseconds, and errors by name ({@link #errorName}).
   */
  public record Result(
      Load load, long ops, double seconds, Histogram latencyMicros, Map<String, Long> errors) {
    public double throughput() {
      return ops / seconds;
    }
  }

  /**
   * Runs {@code load.callers()} callers, caller {@code i} made by {@code callers.apply(i)} on its
   * own thread, for the warm-up and then the measured duration, printing progress to {@code
   * progress}. Returns once every caller has stopped or, for one stuck in a call, 15 s after the
   * end (its thread is a daemon).
   */
  public static Result measure(Load load, IntFunction<Caller> callers, PrintWriter progress)
      throws InterruptedException {
    return new Measurement(load, progress).run(callers);
  }

  /**
   * How an error is counted: a {@link RoostException} by its code, plus {@code " (unknown)"} if the
   * outcome of the write is unknown; anything else by its class's simple name, looking through
   * {@link ExecutionException} and {@link CompletionException} wrappers.
   */
  public static String errorName(Throwable e) {
    Throwable t = e;
    while ((t instanceof ExecutionException || t instanceof CompletionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof RoostException roost) {
      return roost.code() + (roost.outcomeUnknown() ? " (unknown)" : "");
    }
    return t.getClass().getSimpleName();
  }

  /** The state of one run. */
  private static final class Measurement {
    private static final int WARM_UP = 0;
    private static final int MEASURE = 1;
    private static final int DONE = 2;

    private final Load load;
    private final PrintWriter progress;
    private final Recorder recorder = new Recorder(3_600_000_000L, 3);
    private final Histogram total = new Histogram(3_600_000_000L, 3);
    private final LongAdder ops = new LongAdder();
    private final LongAdder warmupOps = new LongAdder();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();

    /** {@link #WARM_UP}, then {@link #MEASURE}, then {@link #DONE}: callers stop. */
    private final AtomicInteger phase = new AtomicInteger(WARM_UP);

    Measurement(Load load, PrintWriter progress) {
      this.load = load;
      this.progress = progress;
    }

    Result run(IntFunction<Caller> callers) throws InterruptedException {
      int n = load.callers();
      List<Thread> threads = new ArrayList<>();
      ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
      long start = System.nanoTime();
      long warmupEnd = start + load.warmup().toNanos();
      // In open loop, each caller takes every n-th due time of the whole schedule.
      long intervalNanos = load.rate() > 0 ? (long) (1e9 / load.rate() * n) : 0;
      try {
        ticker.scheduleAtFixedRate(() -> report(start), 1, 1, TimeUnit.SECONDS);
        for (int i = 0; i < n; i++) {
          Caller caller = callers.apply(i);
          long firstDue = start + (intervalNanos == 0 ? 0 : intervalNanos * i / n);
          Thread t = new Thread(() -> loop(caller, firstDue, intervalNanos), "load-" + i);
          t.setDaemon(true);
          threads.add(t);
          t.start();
        }
        sleepUntil(warmupEnd);
        phase.set(MEASURE);
        long measureStart = System.nanoTime();
        sleepUntil(measureStart + load.duration().toNanos());
        phase.set(DONE);
        double seconds = (System.nanoTime() - measureStart) / 1e9;
        ticker.shutdown();
        ticker.awaitTermination(5, TimeUnit.SECONDS);
        long joinDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        for (Thread t : threads) {
          t.join(Math.max(1, (joinDeadline - System.nanoTime()) / 1_000_000));
        }
        // After the joins: answers that came in just before the end are in the histogram too.
        total.add(recorder.getIntervalHistogram());
        Map<String, Long> errorCounts = new TreeMap<>();
        errors.forEach((name, count) -> errorCounts.put(name, count.sum()));
        return new Result(load, ops.sum(), seconds, total, errorCounts);
      } finally {
        phase.set(DONE);
        ticker.shutdownNow();
      }
    }

    private void loop(Caller caller, long due, long interval) {
      while (phase.get() != DONE) {
        if (interval > 0 && !awaitDue(due)) {
          return;
        }
        long started = interval > 0 ? due : System.nanoTime();
        try {
          caller.call();
          record(started);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (Exception e) {
          if (phase.get() == MEASURE) {
            errors.computeIfAbsent(errorName(e), k -> new LongAdder()).increment();
          }
        }
        due += interval;
      }
    }

    private void record(long startedNanos) {
      if (phase.get() == MEASURE) {
        recorder.recordValue(Math.max(1, (System.nanoTime() - startedNanos) / 1000));
        ops.increment();
      } else {
        warmupOps.increment();
      }
    }

    /** Prints a progress line; runs on the ticker thread, the only reader of the recorder. */
    private void report(long start) {
      int now = phase.get();
      if (now == DONE) {
        return;
      }
      Histogram interval = recorder.getIntervalHistogram();
      total.add(interval);
      progress.printf(
          "%5.0fs %s %7d ops/s  p50 %6.1f ms  p99 %6.1f ms  errors %d%n",
          (System.nanoTime() - start) / 1e9,
          now == MEASURE ? "measure" : "warm-up",
          now == MEASURE ? interval.getTotalCount() : warmupOps.sumThenReset(),
          interval.getValueAtPercentile(50) / 1000.0,
          interval.getValueAtPercentile(99) / 1000.0,
          errors.values().stream().mapToLong(LongAdder::sum).sum());
      progress.flush();
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
      for (long left = nanoTime - System.nanoTime();
          left > 0;
          left = nanoTime - System.nanoTime()) {
        TimeUnit.NANOSECONDS.sleep(left);
      }
    }

    /** Sleeps until the due time; false if the run stopped first or the thread was interrupted. */
    private boolean awaitDue(long due) {
      try {
        for (long left = due - System.nanoTime(); left > 0; left = due - System.nanoTime()) {
          if (phase.get() == DONE) {
            return false;
          }
          TimeUnit.NANOSECONDS.sleep(Math.min(left, 100_000_000L));
        }
        return phase.get() != DONE;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }
}

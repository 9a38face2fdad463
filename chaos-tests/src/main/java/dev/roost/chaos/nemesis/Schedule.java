package dev.roost.chaos.nemesis;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A seeded plan of faults for one run: faults of the given families in turn (so a short run still
 * gets one of each), each for a random time in {@code faultMillis}, separated by healed periods in
 * {@code healMillis}; the variant in a family (random node or leader, which split) and its random
 * targets come from the seed. Pauses are capped at 5 s: a leader paused for 10 s steps down on
 * resuming, and Ratis closes a server paused for 60 s, which would test Ratis' timers rather than
 * Roost.
 */
public final class Schedule {
  private static final long MAX_PAUSE_MILLIS = 5_000;

  private final List<ScheduleStep> steps;

  private Schedule(List<ScheduleStep> steps) {
    this.steps = List.copyOf(steps);
  }

  /**
   * Plans faults of {@code families} over {@code runMillis}, the first after one healed period.
   *
   * @param faultMillis {min, max} duration of a fault
   * @param healMillis {min, max} healed time between faults
   */
  public static Schedule plan(
      long seed, List<String> families, long runMillis, long[] faultMillis, long[] healMillis) {
    Random random = new Random(seed);
    List<ScheduleStep> steps = new ArrayList<>();
    long t = between(random, healMillis);
    for (int i = 0; !families.isEmpty(); i++) {
      List<FaultKind> kinds = FaultKind.ofFamily(families.get(i % families.size()));
      FaultKind kind = kinds.get(random.nextInt(kinds.size()));
      long duration = between(random, faultMillis);
      if (kind.family().equals("pause")) {
        duration = Math.min(duration, MAX_PAUSE_MILLIS);
      }
      if (t + duration > runMillis) {
        break;
      }
      steps.add(new ScheduleStep(t, kind, duration, random.nextLong()));
      t += duration + between(random, healMillis);
    }
    return new Schedule(steps);
  }

  private static long between(Random random, long[] range) {
    return range[0] + (range[1] > range[0] ? random.nextLong(range[1] - range[0] + 1) : 0);
  }

  /** The planned steps, in time order. */
  public List<ScheduleStep> steps() {
    return steps;
  }
}

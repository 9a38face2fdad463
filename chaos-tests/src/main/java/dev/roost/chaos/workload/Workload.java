package dev.roost.chaos.workload;

import dev.roost.chaos.checker.Checker;
import dev.roost.client.RoostClient;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * What the clients do during a run, and which checkers judge the history it leaves. Every operation
 * goes through a {@link Recorder}, so the history holds all of them.
 */
public interface Workload {
  /** The name used on the command line. */
  String name();

  /**
   * Prepares the state the clients need (e.g. users), before any fault, retrying for a while.
   *
   * @param process the process number the setup operations are recorded under
   */
  void setup(int process, RoostClient client, Recorder recorder);

  /**
   * One client process's loop: issues operations one at a time until {@code done} says stop.
   *
   * @param process this client's process number in the history
   * @param random this process's seeded random source
   */
  void run(int process, RoostClient client, Recorder recorder, Random random, BooleanSupplier done);

  /**
   * Reads the final state after every fault is healed, recording the reads, for checkers that
   * compare what was acknowledged with what is there. Retries each read for a while.
   *
   * @param process the process number the final reads are recorded under
   */
  void finalReads(int process, RoostClient client, Recorder recorder);

  /** The checkers for this workload's histories. */
  List<Checker> checkers(Duration timeLimit);
}

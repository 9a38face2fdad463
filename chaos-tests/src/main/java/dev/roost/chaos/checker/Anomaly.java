package dev.roost.chaos.checker;

import java.util.List;

/**
 * One violation a checker found.
 *
 * @param kind a short stable name ({@code nonlinearizable}, {@code lost-post}, ...)
 * @param message what is wrong, in a sentence
 * @param ops the operations involved, in {@link dev.roost.chaos.history.Operation#describe()} form
 */
public record Anomaly(String kind, String message, List<String> ops) {
  /** Copies the list. */
  public Anomaly {
    ops = List.copyOf(ops);
  }
}

package dev.roost.chaos.checker;

import dev.roost.chaos.history.History;

/**
 * Checks one property of a history. A checker reads only the history: never the cluster, never the
 * harness's memory, so any recorded history can be checked again later.
 *
 * <p>Contract: {@link Verdict#VALID} only when the property was fully checked and holds; a checker
 * that runs out of time or cannot decide returns {@link Verdict#UNKNOWN}. A history in which the
 * checked workload has no {@code ok} operation at all is {@link Verdict#INVALID}: nothing was
 * shown, and a cluster that answers nothing must not pass.
 */
public interface Checker {
  /** The name used in results and reports. */
  String name();

  /** Checks the history. */
  CheckResult check(History history);
}

package dev.roost.chaos.checker;

/** What a checker concluded about a history. */
public enum Verdict {
  /** The history satisfies the property. */
  VALID,
  /** The history violates the property; the result's anomalies say how. */
  INVALID,
  /** The checker gave up (time limit, search too large): never a pass. */
  UNKNOWN;

  /** Combines two verdicts: any INVALID wins, then any UNKNOWN. */
  public Verdict and(Verdict other) {
    if (this == INVALID || other == INVALID) {
      return INVALID;
    }
    return this == UNKNOWN || other == UNKNOWN ? UNKNOWN : VALID;
  }
}

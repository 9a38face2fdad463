package dev.roost.chaos.checker;

import java.util.List;

/**
 * A checker's conclusion.
 *
 * @param checker the checker's name
 * @param verdict valid, invalid or unknown
 * @param anomalies what was found (empty when valid); capped so a report stays readable
 * @param note how much was checked, or why the checker gave up
 */
public record CheckResult(String checker, Verdict verdict, List<Anomaly> anomalies, String note) {
  /** The most anomalies one result keeps. */
  public static final int MAX_ANOMALIES = 50;

  /** Copies and caps the anomaly list. */
  public CheckResult {
    anomalies = List.copyOf(anomalies.subList(0, Math.min(anomalies.size(), MAX_ANOMALIES)));
  }
}

package dev.roost.domain;

/**
 * The outcome of a command or query in the domain. The numbers are gRPC's (Roost's own beyond its
 * range) and are fixed forever; the wire schema's {@code StatusCode} uses the same ones.
 */
public enum Code {
  OK(0),
  INVALID_ARGUMENT(3),
  NOT_FOUND(5),
  ALREADY_EXISTS(6),
  PERMISSION_DENIED(7),
  RESOURCE_EXHAUSTED(8),
  FAILED_PRECONDITION(9),
  /** A repeated request id too old to tell whether it was applied: the outcome is unknown. */
  ABORTED(10),
  /**
   * A write in a session the state does not hold (expired or never opened): nothing was applied,
   * but an earlier attempt may have been, so the outcome is unknown. Roost's own number, outside
   * gRPC's range.
   */
  SESSION_EXPIRED(100);

  private final int number;

  Code(int number) {
    this.number = number;
  }

  /** The fixed numeric code. */
  public int number() {
    return number;
  }

  /** The code with {@code number}. */
  public static Code ofNumber(int number) {
    for (Code c : values()) {
      if (c.number == number) {
        return c;
      }
    }
    throw new IllegalArgumentException("no domain code " + number);
  }
}

package dev.roost.domain;

/**
 * Thrown by validation when a command or query cannot be carried out; {@link RoostState} turns it
 * into a {@link Result} with the same code, so it never escapes the domain's public methods except
 * from {@link Validation}, whose callers decide.
 */
public final class Rejection extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final Code code;

  /** A rejection with {@code code} (never OK) and a message for people. */
  public Rejection(Code code, String message) {
    super(message, null, false, false);
    if (code == Code.OK) {
      throw new IllegalArgumentException("a rejection needs an error code");
    }
    this.code = code;
  }

  /** Why the request was refused. */
  public Code code() {
    return code;
  }
}

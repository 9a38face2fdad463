package dev.roost.domain;

/**
 * The outcome of a command or query: a code, a message for people when the code is not OK, and a
 * payload (null when there is nothing to return).
 */
public record Result(Code code, String message, Payload payload) {

  /** A success carrying {@code payload}. */
  public static Result ok(Payload payload) {
    return new Result(Code.OK, "", payload);
  }

  /** A failure with {@code code}. */
  public static Result error(Code code, String message) {
    return new Result(code, message, null);
  }

  /** Whether the code is OK. */
  public boolean isOk() {
    return code == Code.OK;
  }
}

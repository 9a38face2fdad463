package dev.roost.api;

import dev.roost.proto.StatusCode;

/**
 * A write the leader refused before it entered the Raft log: it was never replicated and never
 * applied, so a client may report it as a definite failure.
 *
 * <p>Ratis carries a state machine's exception to the client as its class name and message and
 * rebuilds it there through the {@code (String)} constructor, so the status code travels inside the
 * message as {@code "CODE: detail"}; {@link #code()} and {@link #detail()} take it apart again.
 */
public final class RejectedCommandException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Builds the exception from a {@code "CODE: detail"} message, as Ratis does on the client. */
  public RejectedCommandException(String message) {
    super(message);
  }

  /** Builds the exception for {@code code} with a human-readable {@code detail}. */
  public RejectedCommandException(StatusCode code, String detail) {
    this(code.name() + ": " + detail);
  }

  /** The status code, or {@link StatusCode#INTERNAL} if the message does not carry one. */
  public StatusCode code() {
    String message = getMessage();
    int colon = message == null ? -1 : message.indexOf(':');
    if (colon > 0) {
      try {
        return StatusCode.valueOf(message.substring(0, colon));
      } catch (IllegalArgumentException notACode) {
        return StatusCode.INTERNAL;
      }
    }
    return StatusCode.INTERNAL;
  }

  /** The human-readable detail, without the code. */
  public String detail() {
    String message = getMessage() == null ? "" : getMessage();
    String prefix = code().name() + ": ";
    return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
  }
}

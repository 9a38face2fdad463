package dev.roost.client;

import dev.roost.proto.Reply;
import dev.roost.proto.StatusCode;
import java.util.Objects;
import java.util.Optional;

/**
 * The one exception {@link RoostClient} throws (directly from a synchronous method, or as the
 * exceptional completion of an asynchronous one). It never wraps a Ratis or gRPC exception for the
 * caller to inspect: {@link #code()} and {@link #outcomeUnknown()} say everything the caller needs
 * to decide what to do.
 *
 * <p>What the caller does, by case:
 *
 * <ul>
 *   <li><b>A definite failure</b> ({@code outcomeUnknown() == false}): the request had no effect
 *       beyond what its code says. For a write this is either a domain outcome of a command that
 *       was committed and applied ({@code NOT_FOUND}, {@code ALREADY_EXISTS}, {@code
 *       FAILED_PRECONDITION} for a failed compare-and-set, ...; {@link #reply()} then holds the
 *       server's reply, e.g. the current entry of a failed compare-and-set), or a refusal before
 *       anything entered the Raft log ({@code INVALID_ARGUMENT} and friends from validation on the
 *       leader, {@code UNAVAILABLE} when no server could be reached at all). Fix the input or try
 *       again later; a retry is a new write.
 *   <li><b>Outcome unknown</b> ({@code outcomeUnknown() == true}, writes only): the write was sent
 *       and may or may not have been applied, e.g. the deadline passed while it was in flight or
 *       the connection to the leader was lost. Read the state to find out before writing again;
 *       blindly re-sending may apply the write twice (a re-sent post is a second post).
 * </ul>
 *
 * <p>Codes the client itself produces (all other codes come from the servers): {@code
 * INVALID_ARGUMENT} for input it rejects before sending (a null argument, a negative limit); {@code
 * RESOURCE_EXHAUSTED} for a request larger than the leader accepts, or too many calls queued in
 * this client; {@code UNAVAILABLE} when no server could be reached or no leader answered; {@code
 * DEADLINE_EXCEEDED} when the per-call deadline passed; {@code FAILED_PRECONDITION} for a call on a
 * closed client or a peer that does not serve the Roost group; {@code INTERNAL} for a reply the
 * client cannot decode or a failure inside a server's state machine.
 */
public final class RoostException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final StatusCode code;
  private final boolean outcomeUnknown;
  private final transient Reply reply;

  RoostException(StatusCode code, String message, boolean outcomeUnknown) {
    this(code, message, outcomeUnknown, null, null);
  }

  RoostException(
      StatusCode code, String message, boolean outcomeUnknown, Reply reply, Throwable cause) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
    this.outcomeUnknown = outcomeUnknown;
    this.reply = reply;
  }

  /** A failure the servers answered with: a definite outcome carrying the server's reply. */
  static RoostException fromReply(Reply reply) {
    StatusCode code =
        reply.getCode() == StatusCode.UNRECOGNIZED ? StatusCode.INTERNAL : reply.getCode();
    String message = reply.getMessage().isEmpty() ? code.name() : reply.getMessage();
    // ABORTED: the servers no longer remember whether this request id was applied; and
    // SESSION_EXPIRED: this attempt did not apply, but an earlier one may have. Either way the
    // write's outcome is unknown, not a failure.
    return new RoostException(
        code,
        message,
        code == StatusCode.ABORTED || code == StatusCode.SESSION_EXPIRED,
        reply,
        null);
  }

  /** Bad input the client refuses before sending anything. */
  static RoostException invalidArgument(String message) {
    return new RoostException(StatusCode.INVALID_ARGUMENT, message, false);
  }

  /** The status code; never {@code OK}. */
  public StatusCode code() {
    return code;
  }

  /**
   * True if this was a write that may or may not have been applied; the caller must read the state
   * to find out. Always false for reads and for failures before anything was sent.
   */
  public boolean outcomeUnknown() {
    return outcomeUnknown;
  }

  /** The server's reply, when the failure is a reply code (not a transport failure). */
  public Optional<Reply> reply() {
    return Optional.ofNullable(reply);
  }

  @Override
  public String toString() {
    return "RoostException["
        + code
        + (outcomeUnknown ? ", outcome unknown" : "")
        + "]: "
        + getMessage();
  }
}

package dev.roost.api;

import dev.roost.proto.StatusCode;

/**
 * The one mapping between Roost's {@link StatusCode}s and the HTTP statuses of the servers' HTTP
 * endpoint. The code in an {@code ErrorReply} body is what a client acts on; the HTTP status is for
 * proxies, probes and people, and for reading an answer that carries no {@code ErrorReply} (a path
 * that does not exist, a proxy's own error page).
 */
public final class HttpStatus {
  private HttpStatus() {}

  /** The HTTP status an answer with {@code code} is sent with. */
  public static int of(StatusCode code) {
    return switch (code) {
      case OK -> 200;
      case INVALID_ARGUMENT -> 400;
      case PERMISSION_DENIED -> 403;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED, SESSION_EXPIRED -> 409;
      case RESOURCE_EXHAUSTED -> 429;
      case UNAVAILABLE -> 503;
      case DEADLINE_EXCEEDED -> 504;
      case INTERNAL, UNRECOGNIZED -> 500;
    };
  }

  /**
   * The code of an answer with HTTP status {@code status} and no {@code ErrorReply} body. Statuses
   * that {@link #of} gives several codes map to the one a caller should act on: 409 to {@code
   * FAILED_PRECONDITION} (refused in the current state, nothing changed).
   */
  public static StatusCode code(int status) {
    return switch (status) {
      case 200 -> StatusCode.OK;
      // 411, 413, 431: a request without a length, or over a size limit, is the caller's to fix.
      case 400, 405, 411, 413, 431 -> StatusCode.INVALID_ARGUMENT;
      case 401, 403 -> StatusCode.PERMISSION_DENIED;
      case 404 -> StatusCode.NOT_FOUND;
      case 409 -> StatusCode.FAILED_PRECONDITION;
      case 429 -> StatusCode.RESOURCE_EXHAUSTED;
      case 502, 503 -> StatusCode.UNAVAILABLE;
      case 504 -> StatusCode.DEADLINE_EXCEEDED;
      default -> StatusCode.INTERNAL;
    };
  }
}

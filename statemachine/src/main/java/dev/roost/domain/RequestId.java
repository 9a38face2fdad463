package dev.roost.domain;

/**
 * Identifies one logical write: the client that sent it and its sequence number (1, 2, 3...). A
 * retry of a write carries the same request id.
 */
public record RequestId(String clientId, long sequence) {
  /** Longest client id, in characters. */
  public static final int MAX_CLIENT_ID_LENGTH = 128;

  /**
   * Checks the request id of a write.
   *
   * @throws Rejection with INVALID_ARGUMENT when the client id is missing or too long, or the
   *     sequence is not positive
   */
  public static RequestId of(String clientId, long sequence) {
    if (clientId == null || clientId.isEmpty() || clientId.length() > MAX_CLIENT_ID_LENGTH) {
      throw new Rejection(
          Code.INVALID_ARGUMENT, "a write needs a client id of 1 to 128 characters");
    }
    if (sequence < 1) {
      throw new Rejection(Code.INVALID_ARGUMENT, "a write needs a request sequence number >= 1");
    }
    return new RequestId(clientId, sequence);
  }
}

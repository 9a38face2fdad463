package dev.roost.domain;

/**
 * Identifies one logical write: the session it belongs to and its sequence number in it (1, 2,
 * 3...). A retry of a write carries the same session and sequence. It also carries what the client
 * has seen: the lowest sequence whose reply it has not, below which the session's replies may be
 * forgotten.
 *
 * @param session the id an opened session was given
 * @param sequence this write's number in the session
 * @param firstUnanswered the lowest sequence of the session whose reply the client has not seen
 */
public record RequestId(long session, long sequence, long firstUnanswered) {
  /**
   * Checks the request id of a write.
   *
   * @throws Rejection with INVALID_ARGUMENT when the session or sequence is not positive, or the
   *     first unanswered sequence is not between 1 and the sequence
   */
  public static RequestId of(long session, long sequence, long firstUnanswered) {
    if (session < 1) {
      throw new Rejection(
          Code.INVALID_ARGUMENT, "a write needs the id of a session (open one with OpenSession)");
    }
    if (sequence < 1) {
      throw new Rejection(Code.INVALID_ARGUMENT, "a write needs a request sequence number >= 1");
    }
    if (firstUnanswered < 1 || firstUnanswered > sequence) {
      throw new Rejection(
          Code.INVALID_ARGUMENT,
          "the first unanswered sequence must be between 1 and the write's own, "
              + sequence
              + "; it is "
              + firstUnanswered);
    }
    return new RequestId(session, sequence, firstUnanswered);
  }
}

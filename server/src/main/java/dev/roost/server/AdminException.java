package dev.roost.server;

import dev.roost.proto.StatusCode;

/**
 * An admin operation refused or failed, with the code the CLI shows ({@code error: CODE: message}).
 * The message says what to do about it.
 */
final class AdminException extends Exception {
  private final StatusCode code;
  private final String leader;

  AdminException(StatusCode code, String message) {
    this(code, message, null);
  }

  private AdminException(StatusCode code, String message, String leader) {
    super(message);
    this.code = code;
    this.leader = leader;
  }

  /** This server does not lead: the operation must go to {@code leader} (null if unknown). */
  static AdminException notLeader(String self, String leader) {
    return new AdminException(
        StatusCode.UNAVAILABLE,
        self
            + " is not the leader"
            + (leader == null ? " and knows none now; try again" : "; ask " + leader),
        leader == null ? "" : leader);
  }

  StatusCode code() {
    return code;
  }

  /** For {@link #notLeader}: the leader's id ("" when unknown); null for every other failure. */
  String leader() {
    return leader;
  }
}

package dev.roost.cli;

import dev.roost.client.RoostException;
import dev.roost.proto.StatusCode;

/**
 * A failure the CLI reports as {@code error: CODE: message} on stderr with a documented exit
 * status: {@link #EXIT_INPUT} when the input is at fault, {@link #EXIT_CLUSTER} when the cluster
 * could not answer.
 */
public final class CliException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Exit status for bad input: a malformed argument, an unknown user, a failed compare. */
  public static final int EXIT_INPUT = 2;

  /** Exit status when the cluster cannot answer: unavailable, deadline passed, outcome unknown. */
  public static final int EXIT_CLUSTER = 3;

  private final StatusCode code;
  private final int exitCode;

  CliException(StatusCode code, String message, int exitCode) {
    super(message, null, false, false);
    this.code = code;
    this.exitCode = exitCode;
  }

  public static CliException usage(String message) {
    return new CliException(StatusCode.INVALID_ARGUMENT, message, EXIT_INPUT);
  }

  public static CliException cluster(String message) {
    return new CliException(StatusCode.UNAVAILABLE, message, EXIT_CLUSTER);
  }

  /** The CLI form of a client failure, keeping its code. */
  public static CliException of(RoostException e) {
    boolean clusterFault =
        e.outcomeUnknown()
            || e.code() == StatusCode.UNAVAILABLE
            || e.code() == StatusCode.DEADLINE_EXCEEDED
            || e.code() == StatusCode.INTERNAL;
    // The client's message already says when a write's outcome is unknown.
    return new CliException(e.code(), e.getMessage(), clusterFault ? EXIT_CLUSTER : EXIT_INPUT);
  }

  public StatusCode code() {
    return code;
  }

  public int exitCode() {
    return exitCode;
  }
}

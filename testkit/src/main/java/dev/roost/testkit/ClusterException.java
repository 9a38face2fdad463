package dev.roost.testkit;

/**
 * A local cluster could not do what was asked: either the request was wrong (an unknown node, a
 * port already taken; {@link #inputFault()}) or the cluster did not get there in time (no leader,
 * not ready). The CLI reports the first as bad input and the second as a cluster failure.
 */
public final class ClusterException extends Exception {
  private static final long serialVersionUID = 1L;

  private final boolean inputFault;

  private ClusterException(String message, boolean inputFault) {
    super(message, null, false, false);
    this.inputFault = inputFault;
  }

  /** The request was wrong: nothing was changed. */
  public static ClusterException input(String message) {
    return new ClusterException(message, true);
  }

  /** The cluster did not answer or get ready in time. */
  public static ClusterException unavailable(String message) {
    return new ClusterException(message, false);
  }

  /** Whether the request, not the cluster, is at fault. */
  public boolean inputFault() {
    return inputFault;
  }
}

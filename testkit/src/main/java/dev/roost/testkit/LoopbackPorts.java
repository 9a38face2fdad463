package dev.roost.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Ports for the servers a test starts on this machine, each handed out once per JVM.
 *
 * <p>Asking the kernel for a free port ({@code new ServerSocket(0)}) and releasing it is not
 * enough: Linux often hands the same port out again a moment later (3 times in 20,000 calls in a
 * row here, 240 repeats in 2,000 calls), so two peers of one test could get the same port, and
 * Ratis exits the JVM when its gRPC server cannot bind. The ports here come from below Linux's
 * ephemeral range (32768–60999 by default), which neither {@code bind(0)} nor outgoing connections
 * use, so only another server that picked the same port explicitly can take one before the test
 * binds it; each is checked free first. Tests in other JVMs running at the same time start from
 * other places in the range (by pid).
 */
public final class LoopbackPorts {
  private static final int FIRST = 20_000;
  private static final int END = 32_000;

  /** Room for the Raft ports of a cluster and the HTTP ports {@value} above them. */
  public static final int HTTP_OFFSET = 100;

  /** The client ports of a cluster are {@value} above its Raft ports. */
  public static final int CLIENT_OFFSET = 200;

  private static int next = FIRST + (int) (ProcessHandle.current().pid() % 50) * 200;

  private LoopbackPorts() {}

  /** A port nothing listens on now, never handed out before in this JVM. */
  public static int one() {
    return block(1, false);
  }

  /**
   * A base port such that {@code base .. base+count-1}, the same {@code HTTP_OFFSET} above and
   * {@code CLIENT_OFFSET} above are free and never handed out before in this JVM: the Raft, HTTP
   * and client ports of a cluster of {@code count} nodes laid out as {@code roost up} lays them
   * out.
   */
  public static int cluster(int count) {
    return block(count, true);
  }

  private static synchronized int block(int count, boolean cluster) {
    int span = cluster ? CLIENT_OFFSET + count : count;
    for (int tries = 0; tries < (END - FIRST) / span; tries++) {
      if (next + span > END) {
        next = FIRST;
      }
      int base = next;
      next += span;
      if (free(base, count)
          && (!cluster || (free(base + HTTP_OFFSET, count) && free(base + CLIENT_OFFSET, count)))) {
        return base;
      }
    }
    throw new IllegalStateException("no free ports left in " + FIRST + ".." + END);
  }

  private static boolean free(int from, int count) {
    for (int port = from; port < from + count; port++) {
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(port));
      } catch (IOException e) {
        return false;
      }
    }
    return true;
  }
}

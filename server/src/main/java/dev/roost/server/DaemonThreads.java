package dev.roost.server;

import java.util.concurrent.ThreadFactory;

/** Threads of the server's own background work, which must never keep the JVM from exiting. */
final class DaemonThreads {
  private DaemonThreads() {}

  /** Daemon threads named {@code name}, for one executor. */
  static ThreadFactory named(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}

package dev.roost.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The one place that knows how to run a {@code roost-server} JVM from its shaded jar and how to
 * control it by pid afterwards: the CLI's local cluster, the chaos suite and the integration tests
 * all start servers through here, so a server flag or JVM setting changes in one place.
 *
 * <p>Processes are controlled with real signals: SIGTERM to stop (after SIGCONT, since a paused
 * process cannot act on SIGTERM), SIGKILL to kill, SIGSTOP and SIGCONT to pause and resume.
 */
public final class ServerJvm {
  /**
   * The JVM flags of a server that holds a benchmark's state: room for {@code roost bench
   * timeline}'s users and posts beside Ratis' log cache, and an end rather than a limp when memory
   * runs out.
   */
  public static final List<String> DEFAULT_JVM =
      List.of("-Xmx1g", "-XX:+ExitOnOutOfMemoryError", "-XX:+UseSerialGC");

  /**
   * The JVM flags for tests that run several clusters' worth of servers on two cores: small heaps,
   * the serial collector and no top-tier compilation.
   */
  public static final List<String> SMALL_JVM =
      List.of(
          "-Xmx256m", "-XX:+ExitOnOutOfMemoryError", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  private ServerJvm() {}

  /** {@code java JVM_FLAGS -jar SERVER_JAR SERVER_ARGS}, with the running JVM's own java. */
  public static List<String> command(Path serverJar, List<String> jvm, List<String> serverArgs) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvm);
    command.add("-jar");
    command.add(serverJar.toString());
    command.addAll(serverArgs);
    return command;
  }

  /**
   * Starts {@code command} detached from this process's terminal: no input, stdout to {@code out}
   * and stderr to {@code err} (appended; the same file for both is fine), with {@code env} added to
   * the inherited environment (how secrets reach a server: never on its command line, where other
   * users could read them).
   */
  public static Process start(List<String> command, Path out, Path err, Map<String, String> env)
      throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    if (out.equals(err)) {
      builder.redirectErrorStream(true);
    } else {
      builder.redirectError(ProcessBuilder.Redirect.appendTo(err.toFile()));
    }
    return builder
        .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .start();
  }

  /** Whether the process with {@code pid} is alive (paused counts as alive). */
  public static boolean alive(long pid) {
    return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /** Sends SIGTERM and waits up to {@code grace} for the exit, then SIGKILL. */
  public static void stop(long pid, Duration grace) throws IOException {
    Optional<ProcessHandle> handle = handle(pid);
    if (handle.isEmpty()) {
      return;
    }
    signal(pid, "CONT");
    handle.get().destroy();
    try {
      handle.get().onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill(pid);
    } catch (Exception timedOut) {
      kill(pid);
    }
  }

  /** Sends SIGKILL, as a crash would, and waits for the process to be gone. */
  public static void kill(long pid) {
    handle(pid)
        .ifPresent(
            h -> {
              h.destroyForcibly();
              h.onExit().join();
            });
  }

  /** Sends {@code signal} (e.g. STOP, CONT) with kill(1); nothing if the process is gone. */
  public static void signal(long pid, String signal) throws IOException {
    if (!alive(pid)) {
      return;
    }
    try {
      int rc = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor();
      if (rc != 0 && alive(pid)) {
        throw new IOException("kill -" + signal + " " + pid + " exited " + rc);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while signalling " + pid, e);
    }
  }

  private static Optional<ProcessHandle> handle(long pid) {
    return pid > 0 ? ProcessHandle.of(pid).filter(ProcessHandle::isAlive) : Optional.empty();
  }
}

package dev.roost.server;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Checks of the machine made before anything starts, so that a node that cannot run says why in one
 * line instead of failing halfway: Ratis reports a bad storage directory with a stack trace, and a
 * gRPC port already in use makes it call {@code System.exit(1)}.
 */
final class Preflight {
  private Preflight() {}

  /** Creates the data directory if needed and proves it writable by writing a file into it. */
  static void checkDataDir(Path dir) throws ConfigException {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new ConfigException("--data-dir: '" + dir + "' is not a directory");
    }
    try {
      Files.createDirectories(dir);
      Files.delete(Files.createTempFile(dir, ".write-check", null));
    } catch (IOException e) {
      throw new ConfigException("--data-dir: cannot write to '" + dir + "': " + reason(e));
    }
    if (!Files.isReadable(dir)) {
      throw new ConfigException("--data-dir: '" + dir + "' is not readable");
    }
  }

  /** Creates the log file (and its directory) if needed and opens it for appending. */
  static void checkLogFile(Path file) throws ConfigException {
    try {
      Files.createDirectories(file.getParent());
      try (OutputStream out =
          Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
        out.flush();
      }
    } catch (IOException e) {
      throw new ConfigException("--log-file: cannot write to '" + file + "': " + reason(e));
    }
  }

  /**
   * Binds and releases the peer and client ports where Ratis' gRPC servers will bind them. Another
   * process may still take a port before Ratis binds it; this only turns the common case (a node
   * already running, a port typo, an address not of this machine) into a clear message.
   */
  static void checkPorts(ServerConfig config) throws ConfigException {
    RaftTuning tuning = config.tuning();
    checkBind(config, "peer", tuning.peerBind());
    checkBind(config, "client", tuning.clientBind());
  }

  private static void checkBind(ServerConfig config, String which, RaftTuning.Bind bind)
      throws ConfigException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(
          bind.host() == null
              ? new InetSocketAddress(bind.port())
              : new InetSocketAddress(bind.host(), bind.port()));
    } catch (IOException e) {
      throw new ConfigException(
          "--peers: cannot bind the "
              + which
              + " port of "
              + config.id()
              + " ("
              + (bind.host() == null ? "*" : bind.host())
              + ":"
              + bind.port()
              + "): "
              + e.getMessage());
    }
  }

  /** A short reason for an I/O failure; NIO's messages are often only the path. */
  static String reason(Exception e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}

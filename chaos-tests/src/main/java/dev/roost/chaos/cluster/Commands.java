package dev.roost.chaos.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short system commands ({@code ip}, {@code kill}) and reports their failures. */
final class Commands {
  private Commands() {}

  /**
   * Runs {@code command} and returns its standard output.
   *
   * @throws IOException with the command line and its error output if it fails or hangs
   */
  static String run(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", command) + ": no answer in 30 s");
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", command), e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(
          String.join(" ", command) + " exited " + p.exitValue() + ": " + out.strip());
    }
    return out;
  }

  /** Runs {@code command}, ignoring failure: for cleanup of things that may be gone already. */
  static void runQuietly(List<String> command) {
    try {
      run(command);
    } catch (IOException e) {
      // already gone, or never made: either way nothing is left to clean
    }
  }

  /** True if {@code command} runs and exits 0. */
  static boolean succeeds(List<String> command) {
    try {
      run(command);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}

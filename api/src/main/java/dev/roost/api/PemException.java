package dev.roost.api;

import java.nio.file.Path;

/**
 * A PEM file {@link Pem} cannot use: missing, unreadable, not PEM, of the wrong kind, or not
 * matching its partner file. The message names the file and what is wrong with it, ready to show to
 * the operator; reading the same file again will fail the same way until the file is fixed.
 */
public final class PemException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  PemException(Path file, String problem) {
    super(file + ": " + problem);
  }

  PemException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
  }
}

package dev.roost.pki;

/**
 * A certificate operation refused or failed for a reason the operator must fix: a bad argument (an
 * empty name, a malformed subject alternative name, a validity that is not positive), a file that
 * already exists and would be overwritten, a CA directory that is missing, unreadable or
 * inconsistent, or a write the file system refused. The message names the argument or the file and
 * says what is wrong; repeating the call unchanged fails the same way.
 */
public final class PkiException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  PkiException(String message) {
    super(message);
  }

  PkiException(String message, Throwable cause) {
    super(message, cause);
  }
}

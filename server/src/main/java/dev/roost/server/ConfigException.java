package dev.roost.server;

/**
 * A configuration the server cannot start with. The message is one line for an operator and starts
 * with the flag it concerns (for example {@code --id: unknown peer id 'n9' ...}); the server prints
 * it on stderr and exits with status 2.
 */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  /** A problem with the setting named in {@code message}. */
  public ConfigException(String message) {
    super(message);
  }
}

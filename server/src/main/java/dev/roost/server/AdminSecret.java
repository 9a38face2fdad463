package dev.roost.server;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The shared secret that authorizes the admin operations of {@link AdminEndpoint}. Kept out of
 * {@code toString} (and so out of logs and of {@link ServerConfig}'s record string), and compared
 * in constant time so that response timing does not reveal how much of a guess was right.
 */
public final class AdminSecret {
  /** The shortest secret accepted: a guessable secret protects nothing. */
  public static final int MIN_LENGTH = 16;

  private final byte[] bytes;

  private AdminSecret(byte[] bytes) {
    this.bytes = bytes;
  }

  /**
   * @throws IllegalArgumentException if {@code secret} is shorter than {@link #MIN_LENGTH}
   */
  public static AdminSecret of(String secret) {
    if (secret.length() < MIN_LENGTH) {
      throw new IllegalArgumentException(
          "too short: an admin secret needs at least " + MIN_LENGTH + " characters");
    }
    return new AdminSecret(secret.getBytes(StandardCharsets.UTF_8));
  }

  /** Whether {@code candidate} is this secret; null never is. */
  public boolean matches(String candidate) {
    return candidate != null
        && MessageDigest.isEqual(bytes, candidate.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "AdminSecret[***]";
  }
}

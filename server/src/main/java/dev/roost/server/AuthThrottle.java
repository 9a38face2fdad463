package dev.roost.server;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Failed admin authentications per client address: once an address has sent {@link #MAX_FAILURES}
 * wrong secrets within {@link #WINDOW} of its first one, it is locked out until that window ends,
 * so a secret cannot be guessed at network speed. A locked-out address is refused before its secret
 * is looked at, right or wrong.
 *
 * <p>Bounded: it remembers at most {@link #MAX_ADDRESSES} addresses, forgetting the one seen least
 * recently. A client with more addresses than that can get its oldest ones forgotten, but it then
 * has that many addresses to guess from in any case. Safe for concurrent use.
 */
final class AuthThrottle {
  /** Wrong secrets an address may send within {@link #WINDOW}. */
  static final int MAX_FAILURES = 5;

  /** How long failures count, from an address's first failure. */
  static final Duration WINDOW = Duration.ofMinutes(1);

  /** The most addresses remembered at once. */
  static final int MAX_ADDRESSES = 4096;

  private static final class Failures {
    final long firstNanos;
    int count = 1;

    Failures(long firstNanos) {
      this.firstNanos = firstNanos;
    }
  }

  private final LongSupplier nanoTime;

  private final Map<String, Failures> byAddress =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Failures> eldest) {
          return size() > MAX_ADDRESSES;
        }
      };

  /**
   * @param nanoTime a monotonic clock in nanoseconds ({@code System::nanoTime})
   */
  AuthThrottle(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  /** How long {@code address} stays locked out; empty if it may try now. */
  synchronized Optional<Duration> lockedOut(String address) {
    Failures f = current(address);
    if (f == null || f.count < MAX_FAILURES) {
      return Optional.empty();
    }
    return Optional.of(WINDOW.minusNanos(nanoTime.getAsLong() - f.firstNanos));
  }

  /**
   * Counts a wrong secret from {@code address}.
   *
   * @return whether this failure locked the address out
   */
  synchronized boolean failed(String address) {
    Failures f = current(address);
    if (f == null) {
      f = new Failures(nanoTime.getAsLong());
      byAddress.put(address, f);
    } else {
      f.count++;
    }
    return f.count == MAX_FAILURES;
  }

  /** Forgets the failures of {@code address}, which has just sent the right secret. */
  synchronized void succeeded(String address) {
    byAddress.remove(address);
  }

  /** The failures of {@code address} in its current window, or null. */
  private Failures current(String address) {
    Failures f = byAddress.get(address);
    if (f != null && nanoTime.getAsLong() - f.firstNanos >= WINDOW.toNanos()) {
      byAddress.remove(address);
      return null;
    }
    return f;
  }
}

package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AuthThrottleTest {
  private final AtomicLong nanos = new AtomicLong();
  private final AuthThrottle throttle = new AuthThrottle(nanos::get);

  private void fail(String address, int times) {
    for (int i = 0; i < times; i++) {
      throttle.failed(address);
    }
  }

  @Test
  void locksOutOneAddressAtTheLimitUntilItsWindowEnds() {
    fail("10.0.0.1", AuthThrottle.MAX_FAILURES - 1);
    assertThat(throttle.lockedOut("10.0.0.1")).isEmpty();

    nanos.addAndGet(Duration.ofSeconds(10).toNanos());
    assertThat(throttle.failed("10.0.0.1")).isTrue();

    assertThat(throttle.lockedOut("10.0.0.1")).contains(AuthThrottle.WINDOW.minusSeconds(10));
    assertThat(throttle.lockedOut("10.0.0.2")).isEmpty();
    nanos.addAndGet(AuthThrottle.WINDOW.minusSeconds(10).toNanos());
    assertThat(throttle.lockedOut("10.0.0.1")).isEmpty();
  }

  @Test
  void failuresInAnEarlierWindowDoNotCount() {
    fail("10.0.0.1", AuthThrottle.MAX_FAILURES - 1);
    nanos.addAndGet(AuthThrottle.WINDOW.toNanos());

    assertThat(throttle.failed("10.0.0.1")).isFalse();
    assertThat(throttle.lockedOut("10.0.0.1")).isEmpty();
  }

  @Test
  void theRightSecretClearsTheCount() {
    fail("10.0.0.1", AuthThrottle.MAX_FAILURES - 1);
    throttle.succeeded("10.0.0.1");

    assertThat(throttle.failed("10.0.0.1")).isFalse();
    assertThat(throttle.lockedOut("10.0.0.1")).isEmpty();
  }

  @Test
  void remembersABoundedNumberOfAddresses() {
    fail("10.0.0.1", AuthThrottle.MAX_FAILURES);
    assertThat(throttle.lockedOut("10.0.0.1")).isPresent();

    // As many other addresses as it holds: the one seen least recently is forgotten.
    for (int i = 0; i < AuthThrottle.MAX_ADDRESSES; i++) {
      throttle.failed("fd00::" + Integer.toHexString(i));
    }

    assertThat(throttle.lockedOut("10.0.0.1")).isEmpty();
  }
}

package dev.roost.bench;

import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The load options every benchmark shares, {@code roost bench} and {@code bench/}'s comparison
 * alike, as a picocli mixin: callers, the client instances they share, timing, value size, key
 * space and seed.
 */
public final class LoadOptions {
  @Option(
      names = "--clients",
      defaultValue = "64",
      description = "Concurrent closed-loop clients (default: ${DEFAULT-VALUE}).")
  int clients;

  @Option(
      names = "--connections",
      defaultValue = "1",
      description =
          "Client instances the clients share round-robin, at most --clients"
              + " (default: ${DEFAULT-VALUE}).")
  int connections;

  @Option(
      names = "--duration",
      defaultValue = "30",
      description = "Seconds measured (default: ${DEFAULT-VALUE}).")
  int durationSeconds;

  @Option(
      names = "--warmup",
      defaultValue = "10",
      description = "Seconds before measuring (default: ${DEFAULT-VALUE}).")
  int warmupSeconds;

  @Option(
      names = "--value-size",
      defaultValue = "256",
      description = "Value bytes (default: ${DEFAULT-VALUE}).")
  int valueSize;

  @Option(
      names = "--keys",
      defaultValue = "10000",
      description = "Key space (default: ${DEFAULT-VALUE}).")
  int keys;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  /** What is wrong with these options, or null. */
  public String problem() {
    if (clients < 1
        || connections < 1
        || connections > clients
        || durationSeconds < 1
        || warmupSeconds < 0
        || valueSize < 0
        || keys < 1) {
      return "load options must be positive, --connections at most --clients";
    }
    return null;
  }

  public int clients() {
    return clients;
  }

  public int connections() {
    return connections;
  }

  public Duration duration() {
    return Duration.ofSeconds(durationSeconds);
  }

  public Duration warmup() {
    return Duration.ofSeconds(warmupSeconds);
  }

  public int valueSize() {
    return valueSize;
  }

  public int keys() {
    return keys;
  }

  public long seed() {
    return seed;
  }
}

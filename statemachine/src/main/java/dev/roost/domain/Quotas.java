package dev.roost.domain;

/**
 * How much the replicated state may hold. Every member keeps the whole state in its heap, and every
 * member applies the same writes: without a bound, a write that runs one member out of memory runs
 * every member out at the same log index, and again at each restart as the log is replayed. A write
 * that would go past a quota is refused with {@code RESOURCE_EXHAUSTED} when applied, the same way
 * on every member, and changes nothing. Deletes (of keys) and unfollows free room again.
 *
 * <p>Quotas take part in apply, as the other {@link Limits} do: every member must run with the same
 * values. docs/operations.md gives the heap each item takes, measured, to size them.
 *
 * @param users registered users
 * @param posts posts, in all
 * @param followEdges follow edges, in all
 * @param followingPerUser accounts one user may follow; it also bounds the work of one timeline
 * @param keys keys in the key-value map
 * @param kvBytes bytes of keys and values in the key-value map, in all
 */
public record Quotas(
    long users, long posts, long followEdges, int followingPerUser, long keys, long kvBytes) {
  /**
   * Defaults that fit a 1 GiB heap with room for Ratis' log cache and the request log, whatever mix
   * of items fills them (see docs/operations.md).
   */
  public static final Quotas DEFAULT =
      new Quotas(100_000, 1_000_000, 2_000_000, 5_000, 1_000_000, 256L << 20);

  /** Checks that every quota is positive. */
  public Quotas {
    if (users < 1
        || posts < 1
        || followEdges < 1
        || followingPerUser < 1
        || keys < 1
        || kvBytes < 1) {
      throw new IllegalArgumentException("quotas must be positive");
    }
  }
}

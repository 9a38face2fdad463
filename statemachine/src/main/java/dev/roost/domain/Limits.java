package dev.roost.domain;

/**
 * Limits enforced by the state machine. They take part in apply, so every member of a group must
 * run with the same values; change them only with a restart of the whole group.
 *
 * @param maxPostCodePoints the longest post, in Unicode code points
 * @param dedupClients how many clients' recent request ids are remembered (least recently active
 *     forgotten first)
 * @param dedupWindow how many recent request ids are remembered per client; it must exceed the
 *     number of writes a client has in flight at once, counting every write of a batch
 * @param quotas how much the state may hold
 */
public record Limits(int maxPostCodePoints, int dedupClients, int dedupWindow, Quotas quotas) {
  /** 280 code points per post, 4096 clients, 128 request ids per client, the default quotas. */
  public static final Limits DEFAULT = new Limits(280, 4096, 128);

  /** Limits with the default quotas. */
  public Limits(int maxPostCodePoints, int dedupClients, int dedupWindow) {
    this(maxPostCodePoints, dedupClients, dedupWindow, Quotas.DEFAULT);
  }

  /** Checks that every limit is positive. */
  public Limits {
    if (maxPostCodePoints < 1 || dedupClients < 1 || dedupWindow < 1) {
      throw new IllegalArgumentException("limits must be positive");
    }
    if (quotas == null) {
      throw new IllegalArgumentException("quotas are required");
    }
  }

  /** These limits with another maximum post length. */
  public Limits withMaxPostCodePoints(int codePoints) {
    return new Limits(codePoints, dedupClients, dedupWindow, quotas);
  }

  /** These limits with other quotas. */
  public Limits withQuotas(Quotas other) {
    return new Limits(maxPostCodePoints, dedupClients, dedupWindow, other);
  }
}

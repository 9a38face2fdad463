package dev.roost.client;

/**
 * How fresh a read must be, chosen per client ({@link RoostClient.Builder#readConsistency}) or per
 * call ({@link RoostClient#withReadConsistency}). Writes are unaffected.
 */
public enum ReadConsistency {
  /**
   * The default: the read reflects every write acknowledged before it started, to anyone. Served
   * through Raft's read index (the leader confirms it still leads; a follower asks the leader for
   * the index and waits until it has applied it). Never stale, also right after a failover. A
   * cluster whose servers run with leader leases serves these from the leader without the
   * confirmation round, under the lease's clock assumption.
   */
  LINEARIZABLE,

  /**
   * Read-your-writes: served by any member, once it has applied at least the highest index this
   * client has seen in a reply (its own writes and earlier reads included), so this client never
   * sees something older than it has already seen. Another client's newer writes may be missing.
   * Spreads reads over all members.
   */
  FOLLOWER,

  /**
   * Any member, no wait: the answer may be arbitrarily old. Its reply's applied index says how
   * current it is. The cheapest read, for dashboards and caches.
   */
  STALE
}

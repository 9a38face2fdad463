package dev.roost.api;

/**
 * Sizes every member and client agrees on. The servers enforce them before a write enters the Raft
 * log; the client checks them too so that an oversized request fails at once, with the server's
 * code, instead of after a round trip.
 */
public final class WireLimits {
  /**
   * The largest command accepted, in bytes. It stays well below the Raft log appender's buffer
   * ({@code raft.server.log.appender.buffer.byte-limit}): an entry larger than that makes the
   * leader step down instead of replicating it.
   */
  public static final int MAX_COMMAND_BYTES = 2 << 20;

  /**
   * The most writes one {@code CommandBatch} may carry. A server also refuses a batch of more
   * writes than it keeps replies per session ({@link #DEFAULT_DEDUP_WINDOW} unless configured
   * otherwise), since a retry of a larger batch could not be told from a new one.
   */
  public static final int MAX_BATCH_COMMANDS = 1024;

  /**
   * The most reads one {@code QueryBatch} may carry: they are answered under one read lock, which
   * holds back apply meanwhile.
   */
  public static final int MAX_BATCH_QUERIES = 1024;

  /**
   * How many replies a session keeps until its client has seen them, unless configured otherwise.
   */
  public static final int DEFAULT_DEDUP_WINDOW = 128;

  private WireLimits() {}
}

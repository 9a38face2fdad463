package dev.roost.bench;

/**
 * One client instance of a compared store (a {@code RoostClient}, a jetcd {@code Client}, a {@code
 * ZooKeeper} handle), shared by several callers at once: every method may be called from many
 * threads concurrently. Key {@code k} is the store's own name for key number {@code k}, the same
 * keys in every store. Methods throw whatever the store's client throws; the load generator counts
 * it as an error by name.
 */
interface KvConnection extends AutoCloseable {
  /** Makes key {@code k} exist with {@code value}, creating it if needed (before measuring). */
  void create(int k, byte[] value) throws Exception;

  /** Writes {@code value} to key {@code k}, which exists (see {@link #create}). */
  void put(int k, byte[] value) throws Exception;

  /**
   * Reads key {@code k} at the store's read consistency; a missing key is an error (a {@link
   * MissingKeyException} where the store does not throw its own).
   */
  void get(int k) throws Exception;

  @Override
  void close();

  /** A read found no value: the keys were not created, so the run measures nothing real. */
  final class MissingKeyException extends Exception {
    private static final long serialVersionUID = 1L;

    MissingKeyException(String key) {
      super("no value at " + key);
    }
  }
}

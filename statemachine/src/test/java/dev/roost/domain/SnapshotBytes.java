package dev.roost.domain;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** Edits of a snapshot file's bytes, for tests that corrupt one on purpose. */
public final class SnapshotBytes {
  private SnapshotBytes() {}

  /**
   * Writes the checksum of everything before it into the snapshot's last 8 bytes, so that an edit
   * passes the checksum and only the reader's own checks can catch it.
   */
  public static void rechecksum(byte[] snapshot) {
    CRC32C crc = new CRC32C();
    crc.update(snapshot, 0, snapshot.length - 8);
    ByteBuffer.wrap(snapshot).putLong(snapshot.length - 8, crc.getValue());
  }
}

package dev.roost.domain;

import dev.roost.domain.Payload.KvEntry;
import dev.roost.domain.Payload.Post;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A hash of the state's items kept up to date as they come and go, so that a digest of the whole
 * state costs a few microseconds instead of an encoding of all of it: a multiset hash (AdHash, as
 * Bellare and Micciancio define it) — the sum, in four independent 64-bit lanes, of each item's
 * SHA-256. Adding or removing an item costs one hash of that item; the sum does not depend on the
 * order in which items came, so a state rebuilt from a snapshot sums to the same value as the live
 * state it was taken from.
 *
 * <p>It is a check that members hold the same state, not a defence against someone forging items to
 * collide: sums of hashes can be made to collide with enough effort, and nothing here needs
 * otherwise.
 *
 * <p>Each item is encoded as in the snapshot, after a tag naming its kind, so that items of
 * different kinds never share an encoding.
 */
final class StateHash {
  private static final byte USER = 1;
  private static final byte EDGE = 2;
  private static final byte POST = 3;
  private static final byte KEY = 4;
  private static final byte SESSION = 5;
  private static final byte RESULT = 6;

  // Items are folded in by apply alone, under the state's write lock, so one digest serves them.
  private final MessageDigest sha = sha256();
  private final DataOutputStream out =
      new DataOutputStream(new DigestOutputStream(OutputStream.nullOutputStream(), sha));
  private final long[] sum = new long[4];

  /** Forgets every item. */
  void clear() {
    Arrays.fill(sum, 0);
  }

  void user(int sign, String handle, String displayName, long createdAtMs) {
    fold(
        USER,
        sign,
        out -> {
          SnapshotFormat.writeString(out, handle);
          SnapshotFormat.writeString(out, displayName);
          out.writeLong(createdAtMs);
        });
  }

  void edge(int sign, String follower, String followee) {
    fold(
        EDGE,
        sign,
        out -> {
          SnapshotFormat.writeString(out, follower);
          SnapshotFormat.writeString(out, followee);
        });
  }

  void post(int sign, Post p) {
    fold(
        POST,
        sign,
        out -> {
          SnapshotFormat.writeString(out, p.author());
          out.writeLong(p.id());
          out.writeLong(p.timestampMs());
          SnapshotFormat.writeString(out, p.text());
        });
  }

  void key(int sign, KvEntry e) {
    fold(KEY, sign, out -> SnapshotFormat.writeKvEntry(out, e));
  }

  /** A session, without its replies. */
  void session(int sign, Sessions.Session s) {
    fold(
        SESSION,
        sign,
        out -> {
          out.writeLong(s.id);
          out.writeLong(s.lastActiveMs);
          out.writeLong(s.forgottenBelow);
        });
  }

  /** A reply a session keeps. */
  void result(int sign, long session, long sequence, Result r) {
    fold(
        RESULT,
        sign,
        out -> {
          out.writeLong(session);
          out.writeLong(sequence);
          SnapshotFormat.writeResult(out, r);
        });
  }

  /**
   * A SHA-256, in hex, of the sum and of {@code more}, which are not items (the clock, counts).
   * Readers may call it together (queries share a read lock), so it has a digest of its own.
   */
  String digest(long... more) {
    ByteBuffer bytes = ByteBuffer.allocate(Long.BYTES * (sum.length + more.length));
    for (long lane : sum) {
      bytes.putLong(lane);
    }
    for (long m : more) {
      bytes.putLong(m);
    }
    return HexFormat.of().formatHex(sha256().digest(bytes.array()));
  }

  private interface Encoding {
    void writeTo(DataOutputStream out) throws IOException;
  }

  /** Adds ({@code sign} 1) or removes ({@code sign} -1) one item's hash to or from the sum. */
  private void fold(byte tag, int sign, Encoding item) {
    try {
      out.writeByte(tag);
      item.writeTo(out);
    } catch (IOException e) {
      throw new IllegalStateException("writing into a hash cannot fail", e);
    }
    byte[] h = sha.digest();
    for (int lane = 0; lane < sum.length; lane++) {
      long v = 0;
      for (int i = lane * 8; i < lane * 8 + 8; i++) {
        v = (v << 8) | (h[i] & 0xFF);
      }
      sum[lane] += sign * v;
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}

package dev.roost.domain;

import dev.roost.domain.Payload.FollowResult;
import dev.roost.domain.Payload.KvEntry;
import dev.roost.domain.Payload.Post;
import dev.roost.domain.Payload.User;
import dev.roost.domain.RoostState.Account;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The binary snapshot of a {@link RoostState}: compact, versioned and checksummed.
 *
 * <pre>
 * "ROOSTSNP" (8 bytes) | format version (int) | body | CRC32C of everything before it (long)
 * body: last timestamp
 *       | settings: configured, post length, quotas (6), sessions, replies per session, timeout
 *       | accounts in handle order: handle, display name, created at, following, posts
 *       | keys in key order: key, value, create revision, mod revision, version
 *       | sessions, least recently active first: id, last active, forgotten below, (sequence, result)*
 * </pre>
 *
 * Strings are UTF-8 with an int length. Followers, counters and indexes are derived on load, not
 * stored. The encoding is canonical (every collection in a fixed order), so equal states give equal
 * bytes; {@link StateHash} hashes each item in this encoding.
 */
public final class SnapshotFormat {
  private static final byte[] MAGIC = "ROOSTSNP".getBytes(StandardCharsets.US_ASCII);
  // 2: client sessions replaced the request log of client ids (version 1), whose snapshots are
  // refused: their clients' retries could not be answered, and a pre-release format keeps no
  // reader.
  private static final int VERSION = 2;

  private static final int NO_PAYLOAD = 0;
  private static final int USER = 1;
  private static final int POST = 2;
  private static final int FOLLOW_RESULT = 3;
  private static final int KV_ENTRY = 4;

  private static final int CHECKSUM_BYTES = 8;
  // The fewest bytes each kind of item takes in the body, so that a count can be checked against
  // the bytes left: a string is at least its 4-byte length.
  private static final int MIN_STRING_BYTES = 4;
  // handle, display name, created at, following count, post count
  private static final int MIN_ACCOUNT_BYTES = 4 + 4 + 8 + 4 + 4;
  // id, timestamp, text
  private static final int MIN_POST_BYTES = 8 + 8 + 4;
  // key, value, create revision, mod revision, version
  private static final int MIN_KV_ENTRY_BYTES = 4 + 4 + 8 + 8 + 8;
  // id, last active, forgotten below, result count
  private static final int MIN_SESSION_BYTES = 8 + 8 + 8 + 4;
  // sequence, code, message, payload tag
  private static final int MIN_RESULT_BYTES = 8 + 4 + 4 + 1;

  private SnapshotFormat() {}

  /** Thrown when a snapshot cannot be read: truncated, foreign, of another version, or corrupt. */
  public static final class CorruptSnapshotException extends IOException {
    private static final long serialVersionUID = 1L;

    CorruptSnapshotException(String message) {
      super(message);
    }
  }

  /** Writes {@code state} to {@code out} (which is flushed, not closed). */
  public static void write(RoostState state, OutputStream out) throws IOException {
    BufferedOutputStream buffered = new BufferedOutputStream(out, 1 << 16);
    CheckedOutputStream checked = new CheckedOutputStream(buffered, new CRC32C());
    DataOutputStream data = new DataOutputStream(checked);
    data.write(MAGIC);
    data.writeInt(VERSION);
    data.writeLong(state.lastTimestampMs());
    Limits limits = state.limits();
    data.writeBoolean(state.configured());
    data.writeInt(limits.maxPostCodePoints());
    data.writeLong(limits.quotas().users());
    data.writeLong(limits.quotas().posts());
    data.writeLong(limits.quotas().followEdges());
    data.writeInt(limits.quotas().followingPerUser());
    data.writeLong(limits.quotas().keys());
    data.writeLong(limits.quotas().kvBytes());
    data.writeInt(limits.maxSessions());
    data.writeInt(limits.dedupWindow());
    data.writeLong(limits.sessionTimeoutMs());

    data.writeInt(state.userCount());
    for (Account a : state.accounts()) {
      writeString(data, a.handle);
      writeString(data, a.displayName);
      data.writeLong(a.createdAtMs);
      data.writeInt(a.following.size());
      for (String followee : a.following) {
        writeString(data, followee);
      }
      data.writeInt(a.posts.size());
      for (Post p : a.posts) {
        data.writeLong(p.id());
        data.writeLong(p.timestampMs());
        writeString(data, p.text());
      }
    }

    data.writeInt(state.keyCount());
    for (KvEntry e : state.kvEntries()) {
      writeKvEntry(data, e);
    }

    data.writeInt(state.sessions().count());
    for (Sessions.Session session : state.sessions().all()) {
      data.writeLong(session.id);
      data.writeLong(session.lastActiveMs);
      data.writeLong(session.forgottenBelow);
      data.writeInt(session.results.size());
      for (Map.Entry<Long, Result> r : session.results.entrySet()) {
        data.writeLong(r.getKey());
        writeResult(data, r.getValue());
      }
    }
    data.flush();
    new DataOutputStream(buffered).writeLong(checked.getChecksum().getValue());
    buffered.flush();
  }

  /**
   * Checks that {@code in} holds one whole snapshot, of a version this code reads, whose checksum
   * matches: one streaming pass in bounded memory that believes nothing the file says. Run it
   * before {@link #read}, so that a damaged file is refused before any count in it is used.
   *
   * @return the snapshot's length in bytes, to pass to {@link #read}
   * @throws CorruptSnapshotException if the input is not a complete, intact Roost snapshot of a
   *     version this code reads
   */
  public static long verify(InputStream in) throws IOException {
    byte[] header = in.readNBytes(MAGIC.length + 4);
    checkHeader(header);
    CRC32C crc = new CRC32C();
    crc.update(header);
    long length = header.length;
    // The last 8 bytes read are the stored checksum, which does not cover itself: they stay in
    // buf[0..held) until more bytes arrive behind them.
    byte[] buf = new byte[CHECKSUM_BYTES + (1 << 16)];
    int held = 0;
    for (int n; (n = in.read(buf, held, buf.length - held)) != -1; ) {
      length += n;
      held += n;
      if (held > CHECKSUM_BYTES) {
        crc.update(buf, 0, held - CHECKSUM_BYTES);
        System.arraycopy(buf, held - CHECKSUM_BYTES, buf, 0, CHECKSUM_BYTES);
        held = CHECKSUM_BYTES;
      }
    }
    if (held < CHECKSUM_BYTES) {
      throw new CorruptSnapshotException("truncated snapshot");
    }
    if (ByteBuffer.wrap(buf, 0, CHECKSUM_BYTES).getLong() != crc.getValue()) {
      throw new CorruptSnapshotException("checksum mismatch");
    }
    return length;
  }

  /**
   * Reads a state written by {@link #write} from an input of {@code length} bytes, normally one
   * that {@link #verify} accepted. Nothing is returned unless the whole input is valid. Memory
   * stays proportional to {@code length} whatever the input says: every count and length in it is
   * checked against the bytes left before it is used.
   *
   * @throws CorruptSnapshotException if the input is not a complete, intact Roost snapshot of a
   *     version this code reads, or is not {@code length} bytes long
   */
  public static RoostState read(InputStream in, long length) throws IOException {
    Source src = new Source(in, length);
    try {
      checkHeader(src.data.readNBytes(MAGIC.length + 4));
      long timestampMs = src.data.readLong();
      boolean configured = src.data.readBoolean();
      int maxPost = src.data.readInt();
      Quotas quotas =
          new Quotas(
              src.data.readLong(),
              src.data.readLong(),
              src.data.readLong(),
              src.data.readInt(),
              src.data.readLong(),
              src.data.readLong());
      Limits limits =
          new Limits(maxPost, src.data.readInt(), src.data.readInt(), src.data.readLong(), quotas);
      RoostState state = new RoostState(limits);
      state.restoreTimestamp(timestampMs);
      state.restoreConfigured(configured);

      int users = src.count(MIN_ACCOUNT_BYTES);
      for (int i = 0; i < users; i++) {
        Account a = new Account(src.string(), src.string(), src.data.readLong());
        if (state.accountOrNull(a.handle) != null) {
          throw new CorruptSnapshotException("user " + a.handle + " appears twice");
        }
        int following = src.count(MIN_STRING_BYTES);
        for (int j = 0; j < following; j++) {
          a.following.add(src.string());
        }
        int posts = src.count(MIN_POST_BYTES);
        a.posts.ensureCapacity(posts);
        long previousId = 0;
        for (int j = 0; j < posts; j++) {
          long id = src.data.readLong();
          // Timelines search and merge each author's posts by id: they must be increasing.
          if (id <= previousId) {
            throw new CorruptSnapshotException("posts of " + a.handle + " out of id order");
          }
          previousId = id;
          long ts = src.data.readLong();
          a.posts.add(new Post(id, a.handle, src.string(), ts));
        }
        state.restoreAccount(a);
      }
      for (Account a : state.accounts()) {
        for (String followee : a.following) {
          if (state.accountOrNull(followee) == null) {
            throw new CorruptSnapshotException("follow edge to unknown user " + followee);
          }
        }
      }
      state.restoreDerived();

      int keys = src.count(MIN_KV_ENTRY_BYTES);
      for (int i = 0; i < keys; i++) {
        state.restoreKey(readKvEntry(src));
      }

      int sessions = src.count(MIN_SESSION_BYTES);
      long previousActiveMs = Long.MIN_VALUE;
      for (int i = 0; i < sessions; i++) {
        Sessions.Session session = new Sessions.Session(src.data.readLong(), src.data.readLong());
        // Expiry takes the first session as the least recently active.
        if (session.lastActiveMs < previousActiveMs) {
          throw new CorruptSnapshotException("sessions out of order at " + session.id);
        }
        previousActiveMs = session.lastActiveMs;
        session.forgottenBelow = src.data.readLong();
        int results = src.count(MIN_RESULT_BYTES);
        for (int j = 0; j < results; j++) {
          session.results.put(src.data.readLong(), readResult(src));
        }
        state.sessions().restore(session);
      }

      if (src.left() != 0) {
        throw new CorruptSnapshotException(
            "the body ends " + src.left() + " bytes before its length says");
      }
      long computed = src.checked.getChecksum().getValue();
      long stored = src.data.readLong();
      if (computed != stored) {
        throw new CorruptSnapshotException("checksum mismatch");
      }
      if (src.data.read() != -1) {
        throw new CorruptSnapshotException("trailing bytes after the checksum");
      }
      state.rehash();
      return state;
    } catch (EOFException e) {
      throw new CorruptSnapshotException("truncated snapshot");
    } catch (IllegalArgumentException e) {
      throw new CorruptSnapshotException("malformed snapshot: " + e.getMessage());
    }
  }

  private static void checkHeader(byte[] header) throws CorruptSnapshotException {
    if (header.length < MAGIC.length
        || !Arrays.equals(header, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new CorruptSnapshotException("not a Roost snapshot (bad magic)");
    }
    if (header.length < MAGIC.length + 4) {
      throw new CorruptSnapshotException("truncated snapshot");
    }
    int version = ByteBuffer.wrap(header, MAGIC.length, 4).getInt();
    if (version != VERSION) {
      throw new CorruptSnapshotException("unsupported snapshot version " + version);
    }
  }

  /**
   * The input being read: its checksum so far, and how many body bytes are left before the stored
   * checksum, against which every count and length is checked.
   */
  private static final class Source {
    final CheckedInputStream checked;
    final Counted counted;
    final DataInputStream data;
    final long bodyLength;

    Source(InputStream in, long length) {
      checked = new CheckedInputStream(new BufferedInputStream(in, 1 << 16), new CRC32C());
      counted = new Counted(checked);
      data = new DataInputStream(counted);
      bodyLength = length - CHECKSUM_BYTES;
    }

    long left() {
      return bodyLength - counted.bytes;
    }

    /** A count of items that take at least {@code minBytesEach} bytes each. */
    int count(int minBytesEach) throws IOException {
      int n = data.readInt();
      if (n < 0 || (long) n * minBytesEach > left()) {
        throw new CorruptSnapshotException(
            "bad count " + n + " with " + left() + " bytes left in the body");
      }
      return n;
    }

    byte[] bytes(int max) throws IOException {
      int length = data.readInt();
      if (length < 0 || length > max || length > left()) {
        throw new CorruptSnapshotException(
            "bad length " + length + " with " + left() + " bytes left in the body");
      }
      byte[] bytes = new byte[length];
      data.readFully(bytes);
      return bytes;
    }

    String string() throws IOException {
      return new String(bytes(Validation.MAX_VALUE_BYTES), StandardCharsets.UTF_8);
    }
  }

  /** Counts the bytes read through it. */
  private static final class Counted extends FilterInputStream {
    long bytes;

    Counted(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b != -1) {
        bytes++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        bytes += n;
      }
      return n;
    }
  }

  static void writeResult(DataOutputStream data, Result r) throws IOException {
    data.writeInt(r.code().number());
    writeString(data, r.message());
    Payload p = r.payload();
    if (p == null) {
      data.writeByte(NO_PAYLOAD);
    } else if (p instanceof User u) {
      data.writeByte(USER);
      writeString(data, u.handle());
      writeString(data, u.displayName());
      data.writeLong(u.createdAtMs());
      data.writeLong(u.followerCount());
      data.writeLong(u.followingCount());
      data.writeLong(u.postCount());
    } else if (p instanceof Post post) {
      data.writeByte(POST);
      data.writeLong(post.id());
      writeString(data, post.author());
      writeString(data, post.text());
      data.writeLong(post.timestampMs());
    } else if (p instanceof FollowResult f) {
      data.writeByte(FOLLOW_RESULT);
      data.writeBoolean(f.changed());
    } else if (p instanceof KvEntry e) {
      data.writeByte(KV_ENTRY);
      writeKvEntry(data, e);
    } else {
      throw new IllegalStateException("a write never results in " + p.getClass().getSimpleName());
    }
  }

  private static Result readResult(Source src) throws IOException {
    DataInputStream data = src.data;
    Code code = Code.ofNumber(data.readInt());
    String message = src.string();
    int tag = data.readByte();
    Payload payload =
        switch (tag) {
          case NO_PAYLOAD -> null;
          case USER ->
              new User(
                  src.string(),
                  src.string(),
                  data.readLong(),
                  data.readLong(),
                  data.readLong(),
                  data.readLong());
          case POST -> new Post(data.readLong(), src.string(), src.string(), data.readLong());
          case FOLLOW_RESULT -> new FollowResult(data.readBoolean());
          case KV_ENTRY -> readKvEntry(src);
          default -> throw new CorruptSnapshotException("unknown result payload " + tag);
        };
    return new Result(code, message, payload);
  }

  static void writeKvEntry(DataOutputStream data, KvEntry e) throws IOException {
    writeString(data, e.key());
    data.writeInt(e.value().length);
    data.write(e.value());
    data.writeLong(e.createRevision());
    data.writeLong(e.modRevision());
    data.writeLong(e.version());
  }

  private static KvEntry readKvEntry(Source src) throws IOException {
    String key = src.string();
    byte[] value = src.bytes(Validation.MAX_VALUE_BYTES);
    return new KvEntry(key, value, src.data.readLong(), src.data.readLong(), src.data.readLong());
  }

  static void writeString(DataOutputStream data, String s) throws IOException {
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    data.writeInt(utf8.length);
    data.write(utf8);
  }
}

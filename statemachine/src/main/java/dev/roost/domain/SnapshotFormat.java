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
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
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
 *       | accounts in handle order: handle, display name, created at, following, posts
 *       | keys in key order: key, value, create revision, mod revision, version
 *       | request log in eviction order: client id, forgotten-up-to, (sequence, result)*
 * </pre>
 *
 * Strings are UTF-8 with an int length. Followers, counters and indexes are derived on load, not
 * stored. The encoding is canonical (every collection in a fixed order), so equal states give equal
 * bytes; {@link RoostState#digest()} hashes it.
 */
public final class SnapshotFormat {
  private static final byte[] MAGIC = "ROOSTSNP".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 1;

  private static final int NO_PAYLOAD = 0;
  private static final int USER = 1;
  private static final int POST = 2;
  private static final int FOLLOW_RESULT = 3;
  private static final int KV_ENTRY = 4;

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

    Map<String, RequestLog.Window> clients = state.requests().clients();
    data.writeInt(clients.size());
    for (Map.Entry<String, RequestLog.Window> c : clients.entrySet()) {
      writeString(data, c.getKey());
      data.writeLong(c.getValue().forgottenUpTo);
      data.writeInt(c.getValue().results.size());
      for (Map.Entry<Long, Result> r : c.getValue().results.entrySet()) {
        data.writeLong(r.getKey());
        writeResult(data, r.getValue());
      }
    }
    data.flush();
    new DataOutputStream(buffered).writeLong(checked.getChecksum().getValue());
    buffered.flush();
  }

  /**
   * Reads a state written by {@link #write}. Nothing is returned unless the whole input is valid.
   *
   * @throws CorruptSnapshotException if the input is not a complete, intact Roost snapshot of a
   *     version this code reads
   */
  public static RoostState read(InputStream in, Limits limits) throws IOException {
    CheckedInputStream checked =
        new CheckedInputStream(new BufferedInputStream(in, 1 << 16), new CRC32C());
    DataInputStream data = new DataInputStream(checked);
    try {
      byte[] magic = data.readNBytes(MAGIC.length);
      if (!java.util.Arrays.equals(magic, MAGIC)) {
        throw new CorruptSnapshotException("not a Roost snapshot (bad magic)");
      }
      int version = data.readInt();
      if (version != VERSION) {
        throw new CorruptSnapshotException("unsupported snapshot version " + version);
      }
      RoostState state = new RoostState(limits);
      state.restoreTimestamp(data.readLong());

      int users = count(data);
      for (int i = 0; i < users; i++) {
        Account a = new Account(readString(data), readString(data), data.readLong());
        int following = count(data);
        for (int j = 0; j < following; j++) {
          a.following.add(readString(data));
        }
        int posts = count(data);
        a.posts.ensureCapacity(posts);
        for (int j = 0; j < posts; j++) {
          long id = data.readLong();
          long ts = data.readLong();
          a.posts.add(new Post(id, a.handle, readString(data), ts));
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

      int keys = count(data);
      for (int i = 0; i < keys; i++) {
        state.restoreKey(readKvEntry(data));
      }

      int clients = count(data);
      for (int i = 0; i < clients; i++) {
        String clientId = readString(data);
        RequestLog.Window w = new RequestLog.Window();
        w.forgottenUpTo = data.readLong();
        int results = count(data);
        for (int j = 0; j < results; j++) {
          w.results.put(data.readLong(), readResult(data));
        }
        state.requests().restore(clientId, w);
      }

      long computed = checked.getChecksum().getValue();
      long stored = data.readLong();
      if (computed != stored) {
        throw new CorruptSnapshotException("checksum mismatch");
      }
      if (data.read() != -1) {
        throw new CorruptSnapshotException("trailing bytes after the checksum");
      }
      return state;
    } catch (EOFException e) {
      throw new CorruptSnapshotException("truncated snapshot");
    } catch (IllegalArgumentException e) {
      throw new CorruptSnapshotException("malformed snapshot: " + e.getMessage());
    }
  }

  private static void writeResult(DataOutputStream data, Result r) throws IOException {
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

  private static Result readResult(DataInputStream data) throws IOException {
    Code code = Code.ofNumber(data.readInt());
    String message = readString(data);
    int tag = data.readByte();
    Payload payload =
        switch (tag) {
          case NO_PAYLOAD -> null;
          case USER ->
              new User(
                  readString(data),
                  readString(data),
                  data.readLong(),
                  data.readLong(),
                  data.readLong(),
                  data.readLong());
          case POST ->
              new Post(data.readLong(), readString(data), readString(data), data.readLong());
          case FOLLOW_RESULT -> new FollowResult(data.readBoolean());
          case KV_ENTRY -> readKvEntry(data);
          default -> throw new CorruptSnapshotException("unknown result payload " + tag);
        };
    return new Result(code, message, payload);
  }

  private static void writeKvEntry(DataOutputStream data, KvEntry e) throws IOException {
    writeString(data, e.key());
    data.writeInt(e.value().length);
    data.write(e.value());
    data.writeLong(e.createRevision());
    data.writeLong(e.modRevision());
    data.writeLong(e.version());
  }

  private static KvEntry readKvEntry(DataInputStream data) throws IOException {
    String key = readString(data);
    byte[] value = readBytes(data, Validation.MAX_VALUE_BYTES);
    return new KvEntry(key, value, data.readLong(), data.readLong(), data.readLong());
  }

  private static void writeString(DataOutputStream data, String s) throws IOException {
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    data.writeInt(utf8.length);
    data.write(utf8);
  }

  private static String readString(DataInputStream data) throws IOException {
    return new String(readBytes(data, Validation.MAX_VALUE_BYTES), StandardCharsets.UTF_8);
  }

  private static byte[] readBytes(DataInputStream data, int max) throws IOException {
    int length = data.readInt();
    if (length < 0 || length > max) {
      throw new CorruptSnapshotException("bad length " + length);
    }
    byte[] bytes = new byte[length];
    data.readFully(bytes);
    return bytes;
  }

  private static int count(DataInputStream data) throws IOException {
    int n = data.readInt();
    if (n < 0) {
      throw new CorruptSnapshotException("bad count " + n);
    }
    return n;
  }
}

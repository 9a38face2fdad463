package dev.roost.domain;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/** What a successful (or, for a failed compare-and-set, an unsuccessful) result carries. */
public sealed interface Payload {

  /** A user as seen by readers. */
  record User(
      String handle,
      String displayName,
      long createdAtMs,
      long followerCount,
      long followingCount,
      long postCount)
      implements Payload {}

  /**
   * One post. Its id is unique and increasing: the log index of the entry that created it, or the
   * next free id when that index is taken (see {@link RoostState#apply}).
   */
  record Post(long id, String author, String text, long timestampMs) implements Payload {}

  /** A session just opened: its id and how long it may stay idle, in milliseconds of log time. */
  record SessionOpened(long id, long timeoutMs) implements Payload {}

  /** The settings in effect, and whether they were ever set or are still the initial ones. */
  record Settings(Limits limits, boolean configured) implements Payload {}

  /** Whether a follow or unfollow changed the graph. */
  record FollowResult(boolean changed) implements Payload {}

  /**
   * One key with etcd-style revisions. Replies to writes carry the entry without its value (they
   * are remembered for de-duplication, and values can be large).
   */
  record KvEntry(String key, byte[] value, long createRevision, long modRevision, long version)
      implements Payload {

    /** This entry without its value. */
    public KvEntry withoutValue() {
      return value.length == 0
          ? this
          : new KvEntry(key, NO_VALUE, createRevision, modRevision, version);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof KvEntry e
          && key.equals(e.key)
          && Arrays.equals(value, e.value)
          && createRevision == e.createRevision
          && modRevision == e.modRevision
          && version == e.version;
    }

    @Override
    public int hashCode() {
      return 31 * key.hashCode() + Arrays.hashCode(value) + Long.hashCode(modRevision);
    }

    @Override
    public String toString() {
      return "KvEntry["
          + key
          + "="
          + HexFormat.of().formatHex(value, 0, Math.min(16, value.length))
          + (value.length > 16 ? "..." : "")
          + ", create="
          + createRevision
          + ", mod="
          + modRevision
          + ", version="
          + version
          + "]";
    }
  }

  /** The empty value of a {@link KvEntry} without its value. */
  byte[] NO_VALUE = new byte[0];

  /** A page of users; {@code nextToken} is "" on the last page. */
  record UserPage(List<User> users, String nextToken) implements Payload {}

  /** A page of posts, newest first; {@code nextToken} is "" on the last page. */
  record PostPage(List<Post> posts, String nextToken) implements Payload {}

  /** A page of keys in key order; {@code nextToken} is "" on the last page. */
  record KvPage(List<KvEntry> entries, String nextToken) implements Payload {}

  /** A SHA-256 of the canonical encoding of the whole state, with its sizes. */
  record StateDigest(String sha256, long users, long followEdges, long posts, long keys)
      implements Payload {}
}

package dev.roost.domain;

/** A write to the state. Applied in log order on every member. */
public sealed interface Command {

  /** Registers {@code handle}; see {@link Validation#handle} for the rules. */
  record RegisterUser(String handle, String displayName) implements Command {}

  /** Makes {@code follower} follow {@code followee}; following twice changes nothing. */
  record Follow(String follower, String followee) implements Command {}

  /** Ends a follow; unfollowing someone not followed changes nothing. */
  record Unfollow(String follower, String followee) implements Command {}

  /**
   * Posts {@code text} as {@code author}; the post id is unique and increasing, see {@link
   * RoostState#apply}.
   */
  record CreatePost(String author, String text) implements Command {}

  /** Sets {@code key} to {@code value}. */
  record KvPut(String key, byte[] value) implements Command {}

  /** Deletes {@code key}. */
  record KvDelete(String key) implements Command {}

  /** Sets {@code key} to {@code value} if the current entry meets {@code expect}. */
  record KvCompareAndSet(String key, Expect expect, byte[] value) implements Command {}

  /** What a compare-and-set requires of the current entry. */
  sealed interface Expect {
    /** The key exists and holds exactly {@code value}. */
    record ValueEquals(byte[] value) implements Expect {}

    /** The key's version is {@code version}; 0 means the key does not exist. */
    record VersionEquals(long version) implements Expect {}
  }
}

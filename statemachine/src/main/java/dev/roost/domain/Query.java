package dev.roost.domain;

/** A read of the state; it changes nothing. */
public sealed interface Query {

  /** One user with counts. */
  record GetUser(String handle) implements Query {}

  /** Users whose handle starts with {@code prefix}, in handle order. */
  record ListUsers(String prefix, PageRequest page) implements Query {}

  /** Whom {@code handle} follows, in handle order. */
  record ListFollowing(String handle, PageRequest page) implements Query {}

  /** Who follows {@code handle}, in handle order. */
  record ListFollowers(String handle, PageRequest page) implements Query {}

  /** The posts of {@code author}, newest first. */
  record ListPosts(String author, PageRequest page) implements Query {}

  /** The posts of {@code handle} and of the accounts it follows, newest first. */
  record GetTimeline(String handle, PageRequest page) implements Query {}

  /** One key. */
  record KvGet(String key) implements Query {}

  /** Keys starting with {@code prefix}, in key order. */
  record KvList(String prefix, PageRequest page) implements Query {}

  /** A digest of the whole state, to compare members. */
  record GetStateDigest() implements Query {}

  /** The settings in effect. */
  record GetSettings() implements Query {}

  /**
   * One page of a listing.
   *
   * @param limit 1 to {@link #MAX_LIMIT} items; 0 means {@link #DEFAULT_LIMIT}
   * @param token where the previous page ended, or "" for the first page
   */
  record PageRequest(int limit, String token) {
    /** Items per page when the caller does not say. */
    public static final int DEFAULT_LIMIT = 50;

    /** The most items one page may ask for. */
    public static final int MAX_LIMIT = 200;

    /** The first page with the default limit. */
    public static final PageRequest FIRST = new PageRequest(0, "");
  }
}

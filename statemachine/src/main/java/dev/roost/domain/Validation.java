package dev.roost.domain;

import dev.roost.domain.Command.CreatePost;
import dev.roost.domain.Command.Expect;
import dev.roost.domain.Command.Follow;
import dev.roost.domain.Command.KvCompareAndSet;
import dev.roost.domain.Command.KvDelete;
import dev.roost.domain.Command.KvPut;
import dev.roost.domain.Command.RegisterUser;
import dev.roost.domain.Command.Unfollow;
import dev.roost.domain.Query.PageRequest;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The input rules, checked without looking at the state. The leader runs them before a command
 * enters the log (bad input is never replicated) and apply runs them again, so both give the same
 * answer. Rules that depend on the state (does the user exist?) are checked only in apply: the
 * leader's applied state may lag commands already in the log, such as a registration just ahead of
 * a first post.
 */
public final class Validation {
  /** Longest key, in UTF-8 bytes. */
  public static final int MAX_KEY_BYTES = 1024;

  /** Largest value, in bytes. */
  public static final int MAX_VALUE_BYTES = 1 << 20;

  /**
   * Bytes of values one page of keys may carry: a page ends early, with a next-page token, before
   * the entry that would take it past this. Its first entry always fits (a value is at most {@link
   * #MAX_VALUE_BYTES}), so paging always moves on.
   */
  public static final int MAX_PAGE_VALUE_BYTES = 4 << 20;

  /** Longest display name, in code points. */
  public static final int MAX_DISPLAY_NAME_CODE_POINTS = 64;

  private static final Pattern HANDLE = Pattern.compile("[a-z][a-z0-9_]{2,31}");
  private static final Pattern HANDLE_PREFIX = Pattern.compile("[a-z0-9_]{0,32}");

  private Validation() {}

  /**
   * Checks {@code command} and returns it with its handles in canonical (lower) case.
   *
   * @throws Rejection with INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming what is wrong
   */
  public static Command command(Command command, Limits limits) {
    if (command instanceof RegisterUser c) {
      return new RegisterUser(handle(c.handle()), displayName(c.displayName()));
    } else if (command instanceof Follow c) {
      String[] pair = distinctPair(c.follower(), c.followee());
      return new Follow(pair[0], pair[1]);
    } else if (command instanceof Unfollow c) {
      String[] pair = distinctPair(c.follower(), c.followee());
      return new Unfollow(pair[0], pair[1]);
    } else if (command instanceof CreatePost c) {
      return new CreatePost(handle(c.author()), postText(c.text(), limits));
    } else if (command instanceof KvPut c) {
      return new KvPut(key(c.key()), value(c.value()));
    } else if (command instanceof KvDelete c) {
      return new KvDelete(key(c.key()));
    } else if (command instanceof KvCompareAndSet c) {
      if (c.expect() == null) {
        throw invalid("compare-and-set needs an expected value or version");
      }
      if (c.expect() instanceof Expect.ValueEquals v) {
        value(v.value());
      } else if (c.expect() instanceof Expect.VersionEquals v && v.version() < 0) {
        throw invalid("expected version must be 0 or more");
      }
      return new KvCompareAndSet(key(c.key()), c.expect(), value(c.value()));
    }
    throw invalid("empty command");
  }

  /**
   * Returns the canonical form of a handle: 3 to 32 characters of a-z, 0-9 and '_', starting with a
   * letter; upper-case letters are folded to lower case, so "Alice" and "alice" are one user.
   */
  public static String handle(String raw) {
    if (raw == null || raw.isEmpty()) {
      throw invalid("handle is required");
    }
    String handle = raw.toLowerCase(Locale.ROOT);
    if (!HANDLE.matcher(handle).matches()) {
      throw invalid(
          "bad handle '" + printable(raw) + "': 3 to 32 of a-z, 0-9, '_', starting with a letter");
    }
    return handle;
  }

  /** Returns the canonical form of a handle prefix used to list users ("" lists all). */
  public static String handlePrefix(String raw) {
    String prefix = raw == null ? "" : raw.toLowerCase(Locale.ROOT);
    if (!HANDLE_PREFIX.matcher(prefix).matches()) {
      throw invalid("bad handle prefix '" + printable(raw) + "': up to 32 of a-z, 0-9, '_'");
    }
    return prefix;
  }

  /** Checks a display name: optional, at most 64 code points, no control characters. */
  public static String displayName(String raw) {
    String name = raw == null ? "" : raw.strip();
    wellFormed(name, "display name");
    if (name.codePointCount(0, name.length()) > MAX_DISPLAY_NAME_CODE_POINTS) {
      throw invalid("display name is longer than " + MAX_DISPLAY_NAME_CODE_POINTS + " characters");
    }
    if (name.chars().anyMatch(Character::isISOControl)) {
      throw invalid("display name contains control characters");
    }
    return name;
  }

  /**
   * Checks a post's text: not blank, well-formed Unicode, no control characters but newline and
   * tab, at most {@link Limits#maxPostCodePoints()} code points. The text is kept as sent.
   */
  public static String postText(String text, Limits limits) {
    if (text == null || text.isBlank()) {
      throw invalid("post text is empty");
    }
    wellFormed(text, "post text");
    int codePoints = text.codePointCount(0, text.length());
    if (codePoints > limits.maxPostCodePoints()) {
      throw new Rejection(
          Code.INVALID_ARGUMENT,
          "post is " + codePoints + " characters; the limit is " + limits.maxPostCodePoints());
    }
    if (text.chars().anyMatch(ch -> Character.isISOControl(ch) && ch != '\n' && ch != '\t')) {
      throw invalid("post text contains control characters");
    }
    return text;
  }

  /** Checks a key: 1 to 1024 bytes of well-formed UTF-8. */
  public static String key(String key) {
    if (key == null || key.isEmpty()) {
      throw invalid("key is required");
    }
    wellFormed(key, "key");
    if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
      throw invalid("key is longer than " + MAX_KEY_BYTES + " bytes");
    }
    return key;
  }

  /** Checks a key prefix ("" lists all keys). */
  public static String keyPrefix(String prefix) {
    return prefix == null || prefix.isEmpty() ? "" : key(prefix);
  }

  /** Checks a value: at most 1 MiB. */
  public static byte[] value(byte[] value) {
    if (value == null) {
      throw invalid("value is required");
    }
    if (value.length > MAX_VALUE_BYTES) {
      throw new Rejection(
          Code.RESOURCE_EXHAUSTED,
          "value is " + value.length + " bytes; the limit is " + MAX_VALUE_BYTES);
    }
    return value;
  }

  /** Returns the number of items a page may hold: 1 to 200, 0 meaning 50. */
  public static int pageLimit(PageRequest page) {
    int limit = page == null ? 0 : page.limit();
    if (limit == 0) {
      return PageRequest.DEFAULT_LIMIT;
    }
    if (limit < 0 || limit > PageRequest.MAX_LIMIT) {
      throw invalid("page limit must be 1 to " + PageRequest.MAX_LIMIT + ", was " + limit);
    }
    return limit;
  }

  private static String[] distinctPair(String follower, String followee) {
    String a = handle(follower);
    String b = handle(followee);
    if (a.equals(b)) {
      throw invalid("a user cannot follow themselves");
    }
    return new String[] {a, b};
  }

  private static void wellFormed(String s, String what) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw invalid(what + " is not valid Unicode");
      }
    }
  }

  private static String printable(String raw) {
    String s = raw.length() > 40 ? raw.substring(0, 40) + "..." : raw;
    return s.replaceAll("\\p{Cntrl}", "?");
  }

  private static Rejection invalid(String message) {
    return new Rejection(Code.INVALID_ARGUMENT, message);
  }
}

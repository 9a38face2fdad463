package dev.roost.domain;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Opaque page tokens. A token names the last item of the previous page (a handle, a key, or the id
 * of the oldest post shown), so a page stays correct while other writes arrive. The kind letter
 * stops a token of one listing from being used with another.
 */
final class PageToken {
  static final char HANDLE = 'h';
  static final char KEY = 'k';
  static final char POST = 'p';

  private PageToken() {}

  static String encode(char kind, String position) {
    byte[] raw = (kind + ":" + position).getBytes(StandardCharsets.UTF_8);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
  }

  /** The position in {@code token}, or "" for the empty token (the first page). */
  static String decode(char kind, String token) {
    if (token == null || token.isEmpty()) {
      return "";
    }
    String raw;
    try {
      raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw badToken();
    }
    if (raw.length() < 3 || raw.charAt(0) != kind || raw.charAt(1) != ':') {
      throw badToken();
    }
    return raw.substring(2);
  }

  /** The post id a post page continues before; {@link Long#MAX_VALUE} for the first page. */
  static long decodeBefore(String token) {
    String position = decode(POST, token);
    if (position.isEmpty()) {
      return Long.MAX_VALUE;
    }
    try {
      return Long.parseLong(position);
    } catch (NumberFormatException e) {
      throw badToken();
    }
  }

  private static Rejection badToken() {
    return new Rejection(Code.INVALID_ARGUMENT, "bad page token");
  }
}

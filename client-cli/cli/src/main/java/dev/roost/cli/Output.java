package dev.roost.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.MessageOrBuilder;
import dev.roost.api.ControlJson;
import dev.roost.proto.KvEntry;
import dev.roost.proto.KvPage;
import dev.roost.proto.Post;
import dev.roost.proto.PostPage;
import dev.roost.proto.User;
import dev.roost.proto.UserPage;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints results as a table for people or as JSON for scripts. The JSON shapes are part of the
 * CLI's contract (docs/cli.md, "JSON output"): fields are added, never renamed or removed. Times
 * are shown in UTC.
 */
public final class Output {
  /** The formats {@code -o} accepts. */
  public enum Format {
    table,
    json
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

  private final Format format;
  private final PrintWriter out;

  public Output(Format format, PrintWriter out) {
    this.format = format;
    this.out = out;
  }

  public boolean json() {
    return format == Format.json;
  }

  void user(User u) {
    if (json()) {
      print(userJson(u));
    } else {
      table(List.of(userRow(u)), "HANDLE", "NAME", "FOLLOWERS", "FOLLOWING", "POSTS", "SINCE");
    }
  }

  void users(UserPage page) {
    if (json()) {
      ArrayNode users = JSON.createArrayNode();
      page.getUsersList().forEach(u -> users.add(userJson(u)));
      ObjectNode o = JSON.createObjectNode();
      o.set("users", users);
      o.put("nextPageToken", page.getNextPageToken());
      print(o);
    } else {
      table(
          page.getUsersList().stream().map(Output::userRow).toList(),
          "HANDLE",
          "NAME",
          "FOLLOWERS",
          "FOLLOWING",
          "POSTS",
          "SINCE");
      nextPage(page.getNextPageToken());
    }
  }

  void post(Post p) {
    if (json()) {
      print(postJson(p));
    } else {
      table(List.of(postRow(p)), "ID", "TIME (UTC)", "AUTHOR", "TEXT");
    }
  }

  void posts(PostPage page) {
    if (json()) {
      ArrayNode posts = JSON.createArrayNode();
      page.getPostsList().forEach(p -> posts.add(postJson(p)));
      ObjectNode o = JSON.createObjectNode();
      o.set("posts", posts);
      o.put("nextPageToken", page.getNextPageToken());
      print(o);
    } else {
      table(
          page.getPostsList().stream().map(Output::postRow).toList(),
          "ID",
          "TIME (UTC)",
          "AUTHOR",
          "TEXT");
      nextPage(page.getNextPageToken());
    }
  }

  void entry(KvEntry e) {
    if (json()) {
      print(entryJson(e));
    } else {
      table(List.of(entryRow(e)), "KEY", "VALUE", "VERSION", "CREATED", "MODIFIED");
    }
  }

  void entries(KvPage page) {
    if (json()) {
      ArrayNode entries = JSON.createArrayNode();
      page.getEntriesList().forEach(e -> entries.add(entryJson(e)));
      ObjectNode o = JSON.createObjectNode();
      o.set("entries", entries);
      o.put("nextPageToken", page.getNextPageToken());
      print(o);
    } else {
      table(
          page.getEntriesList().stream().map(Output::entryRow).toList(),
          "KEY",
          "VALUE",
          "VERSION",
          "CREATED",
          "MODIFIED");
      nextPage(page.getNextPageToken());
    }
  }

  /** Prints a JSON object as is, or a one-line message for people (shown {@link #printable}). */
  public void result(ObjectNode json, String message) {
    if (json()) {
      print(json);
    } else {
      out.println(printable(message));
    }
  }

  public ObjectNode object() {
    return JSON.createObjectNode();
  }

  /**
   * A control-plane message (a server's status, an admin reply) as the JSON the servers serve
   * ({@link ControlJson}), to print or to place inside a larger result.
   */
  public JsonNode proto(MessageOrBuilder message) {
    try {
      return JSON.readTree(ControlJson.print(message));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("ControlJson printed JSON Jackson cannot read", e);
    }
  }

  public void print(Object json) {
    try {
      out.println(JSON.writeValueAsString(json));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize " + json, e);
    }
  }

  private void nextPage(String token) {
    if (!token.isEmpty()) {
      out.println("(more: --page " + token + ")");
    }
  }

  /** Prints rows under a header, each column as wide as its widest cell. */
  public void table(List<List<String>> rows, String... header) {
    List<List<String>> all = new ArrayList<>();
    all.add(List.of(header));
    rows.forEach(row -> all.add(row.stream().map(Output::printable).toList()));
    int[] widths = new int[header.length];
    for (List<String> row : all) {
      for (int i = 0; i < row.size(); i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    for (List<String> row : all) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        String cell = row.get(i);
        line.append(cell);
        if (i < row.size() - 1) {
          line.append(" ".repeat(widths[i] - cell.length() + 2));
        }
      }
      out.println(line.toString().stripTrailing());
    }
  }

  /**
   * {@code text} with every character that a terminal would act on rather than show (C0 and C1
   * controls, DEL, line and paragraph separators, and the bidirectional controls) written as a
   * visible escape: {@code \n}, {@code \t}, {@code \r}, else a backslash, {@code u} and the code in
   * four hex digits. Keys, values, posts and error messages come from other users, and printed raw
   * they could move the cursor, rewrite earlier lines, retitle the window or reorder what is shown.
   * JSON output needs none of this: Jackson escapes controls, and a program, not a terminal, reads
   * it.
   */
  public static String printable(String text) {
    StringBuilder shown = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      String escape =
          switch (c) {
            case '\n' -> "\\n";
            case '\t' -> "\\t";
            case '\r' -> "\\r";
            default -> actedOn(c) ? String.format("\\u%04x", (int) c) : null;
          };
      if (escape != null && shown == null) {
        shown = new StringBuilder(text.length() + 16).append(text, 0, i);
      }
      if (shown != null) {
        if (escape != null) {
          shown.append(escape);
        } else {
          shown.append(c);
        }
      }
    }
    return shown == null ? text : shown.toString();
  }

  private static boolean actedOn(char c) {
    int type = Character.getType(c);
    return type == Character.CONTROL
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR
        // Bidirectional controls, which can make text read differently from what it is; other
        // format characters (the joiner in emoji sequences) are shown as they are.
        || c == '\u061c'
        || c == '\u200e'
        || c == '\u200f'
        || (c >= '\u202a' && c <= '\u202e')
        || (c >= '\u2066' && c <= '\u2069');
  }

  static String time(long epochMs) {
    return TIME.format(Instant.ofEpochMilli(epochMs));
  }

  private static List<String> userRow(User u) {
    return List.of(
        u.getHandle(),
        u.getDisplayName(),
        Long.toString(u.getFollowerCount()),
        Long.toString(u.getFollowingCount()),
        Long.toString(u.getPostCount()),
        time(u.getCreatedAtMs()));
  }

  private static ObjectNode userJson(User u) {
    ObjectNode o = JSON.createObjectNode();
    o.put("handle", u.getHandle());
    o.put("displayName", u.getDisplayName());
    o.put("createdAtMs", u.getCreatedAtMs());
    o.put("followers", u.getFollowerCount());
    o.put("following", u.getFollowingCount());
    o.put("posts", u.getPostCount());
    return o;
  }

  private static List<String> postRow(Post p) {
    return List.of(Long.toString(p.getId()), time(p.getTimestampMs()), p.getAuthor(), p.getText());
  }

  static ObjectNode postJson(Post p) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", p.getId());
    o.put("author", p.getAuthor());
    o.put("text", p.getText());
    o.put("timestampMs", p.getTimestampMs());
    return o;
  }

  private static String value(KvEntry e) {
    return e.getValue().toString(StandardCharsets.UTF_8);
  }

  private static List<String> entryRow(KvEntry e) {
    return List.of(
        e.getKey(),
        value(e),
        Long.toString(e.getVersion()),
        Long.toString(e.getCreateRevision()),
        Long.toString(e.getModRevision()));
  }

  private static ObjectNode entryJson(KvEntry e) {
    ObjectNode o = JSON.createObjectNode();
    o.put("key", e.getKey());
    o.put("value", value(e));
    o.put("version", e.getVersion());
    o.put("createRevision", e.getCreateRevision());
    o.put("modRevision", e.getModRevision());
    return o;
  }
}

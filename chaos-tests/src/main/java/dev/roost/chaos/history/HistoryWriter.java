package dev.roost.chaos.history;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Appends {@link Event}s to a JSON-lines history file, one object per line, flushed after each line
 * so that a crashed harness still leaves a readable history. Safe for concurrent use; the time of
 * an entry is taken under the lock, so lines are in time order.
 */
public final class HistoryWriter implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final BufferedWriter out;
  private final long origin;

  /**
   * Creates (or truncates) {@code file}.
   *
   * @param origin the {@link System#nanoTime()} that counts as time 0 of the run
   */
  public HistoryWriter(Path file, long origin) throws IOException {
    this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    this.origin = origin;
  }

  /** Records an entry stamped now, and returns it. */
  public synchronized Event append(
      int process, Event.Type type, String f, String key, JsonNode value, String error) {
    Event op = new Event(process, type, f, key, value, System.nanoTime() - origin, error);
    try {
      out.write(JSON.writeValueAsString(toJson(op)));
      out.newLine();
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the history", e);
    }
    return op;
  }

  /** The JSON object of one line; docs/chaos.md, "History format", lists the fields. */
  static ObjectNode toJson(Event op) {
    ObjectNode o = JSON.createObjectNode();
    o.put("process", op.process());
    o.put("type", op.type().wire());
    o.put("f", op.f());
    if (op.key() != null) {
      o.put("key", op.key());
    }
    o.set("value", op.value());
    o.put("time", op.time());
    if (op.error() != null) {
      o.put("error", op.error());
    }
    return o;
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }
}

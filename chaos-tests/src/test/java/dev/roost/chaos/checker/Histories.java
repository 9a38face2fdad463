package dev.roost.chaos.checker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roost.chaos.history.Event;
import dev.roost.chaos.history.History;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Hand-made histories for checker tests, written to a JSON-lines file and read back, so the tests
 * also cover the file format the checkers consume.
 */
final class Histories {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Event> ops = new ArrayList<>();

  /** An operation of {@code process} from {@code start} to {@code end} (ms); end -1: no reply. */
  Histories op(
      int process,
      String f,
      String key,
      String arg,
      String type,
      String result,
      long start,
      long end) {
    ops.add(new Event(process, Event.Type.INVOKE, f, key, json(arg), start * 1_000_000, null));
    if (end >= 0) {
      ops.add(
          new Event(
              process, Event.Type.fromWire(type), f, key, json(result), end * 1_000_000, null));
    }
    return this;
  }

  private static JsonNode json(String s) {
    try {
      return s == null ? null : JSON.readTree(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the file in time order and reads it back. */
  History build(Path dir) {
    List<Event> sorted = new ArrayList<>(ops);
    sorted.sort(Comparator.comparingLong(Event::time));
    StringBuilder b = new StringBuilder();
    for (Event op : sorted) {
      b.append("{\"process\":").append(op.process());
      b.append(",\"type\":\"").append(op.type().wire()).append('"');
      b.append(",\"f\":\"").append(op.f()).append('"');
      b.append(",\"key\":\"").append(op.key()).append('"');
      b.append(",\"value\":").append(op.value());
      b.append(",\"time\":").append(op.time()).append("}\n");
    }
    try {
      Path file = Files.createTempFile(dir, "history", ".jsonl");
      Files.writeString(file, b, StandardCharsets.UTF_8);
      return History.read(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

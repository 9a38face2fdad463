package dev.roost.chaos.history;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A history read back from its JSON-lines file, and the operations it pairs up: the only input of
 * the checkers, so that any history file, also one written by another tool, can be checked.
 */
public final class History {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Event> ops;

  /** A history of these entries, in file order. */
  public History(List<Event> ops) {
    this.ops = List.copyOf(ops);
  }

  /**
   * Reads a history file.
   *
   * @throws IOException naming the line that is not a valid entry
   */
  public static History read(Path file) throws IOException {
    List<Event> ops = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int number = 0;
      while ((line = in.readLine()) != null) {
        number++;
        if (line.isBlank()) {
          continue;
        }
        try {
          ops.add(parse(JSON.readTree(line)));
        } catch (RuntimeException | IOException e) {
          throw new IOException(
              file + ":" + number + ": not a history entry: " + e.getMessage(), e);
        }
      }
    }
    return new History(ops);
  }

  static Event parse(JsonNode o) {
    return new Event(
        o.get("process").asInt(),
        Event.Type.fromWire(o.get("type").asText()),
        o.get("f").asText(),
        o.hasNonNull("key") ? o.get("key").asText() : null,
        o.get("value"),
        o.get("time").asLong(),
        o.hasNonNull("error") ? o.get("error").asText() : null);
  }

  /** Every entry, in file order. */
  public List<Event> ops() {
    return ops;
  }

  /**
   * The client operations, each an invocation with its completion; an invocation without a
   * completion (the harness stopped first) counts as {@link Event.Type#INFO} completing at the end
   * of time. Nemesis entries are left out.
   */
  public List<Operation> operations() {
    List<Operation> result = new ArrayList<>();
    Map<Integer, Integer> open = new HashMap<>();
    for (Event op : ops) {
      if (op.process() == Event.NEMESIS) {
        continue;
      }
      if (op.type() == Event.Type.INVOKE) {
        open.put(op.process(), result.size());
        result.add(new Operation(result.size(), op, null));
      } else {
        Integer at = open.remove(op.process());
        if (at == null) {
          throw new IllegalStateException(
              "completion without an invocation for process " + op.process() + " at " + op.time());
        }
        result.set(at, new Operation(at, result.get(at).invoke(), op));
      }
    }
    return result;
  }

  /** The nemesis entries, in time order. */
  public List<Event> nemesis() {
    return ops.stream().filter(o -> o.process() == Event.NEMESIS).toList();
  }
}

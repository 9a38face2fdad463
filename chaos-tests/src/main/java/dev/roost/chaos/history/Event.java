package dev.roost.chaos.history;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;

/**
 * One line of a history: an invocation or a completion of one operation by one process (an {@link
 * Operation} pairs the two).
 *
 * <p>Outcomes follow Jepsen's rules: {@link Type#OK} happened exactly once, {@link Type#FAIL}
 * surely did not happen, {@link Type#INFO} may or may not have happened (a timeout, a lost
 * connection). A process has at most one operation in flight, so a completion belongs to the
 * process's latest invocation.
 *
 * @param process the client process; {@link #NEMESIS} for fault injection entries
 * @param type invoke, or the completion's outcome
 * @param f the operation ({@code read}, {@code write}, {@code cas}, {@code post}, ...)
 * @param key the key or user the operation is about; null when none
 * @param value the argument on invocation, the result on completion; {@link NullNode} when none
 * @param time nanoseconds since the start of the run, from a monotonic clock
 * @param error the error's code and message on a fail or info completion, else null
 */
public record Event(
    int process, Type type, String f, String key, JsonNode value, long time, String error) {

  /** The process number of the nemesis, whose entries the checkers skip. */
  public static final int NEMESIS = -1;

  /** An invocation or one of the three outcomes. */
  public enum Type {
    INVOKE,
    OK,
    FAIL,
    INFO;

    /** The name written to the file. */
    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The type for a name read from the file. */
    public static Type fromWire(String s) {
      return valueOf(s.toUpperCase(java.util.Locale.ROOT));
    }
  }

  /** Normalises a missing value to {@link NullNode}. */
  public Event {
    value = value == null ? NullNode.getInstance() : value;
  }
}

package dev.roost.chaos.workload;

import com.fasterxml.jackson.databind.JsonNode;
import dev.roost.chaos.history.Event;
import dev.roost.chaos.history.HistoryWriter;
import dev.roost.client.RoostException;
import dev.roost.proto.StatusCode;

/**
 * Runs one client operation and records its invocation and completion, classifying the outcome by
 * Jepsen's rules, which the checkers depend on:
 *
 * <ul>
 *   <li>{@code ok}: the call returned;
 *   <li>{@code fail}: a {@link RoostException} with {@code outcomeUnknown() == false}, which the
 *       client library gives only when the request surely had no effect (refused before the log,
 *       never sent, or a domain outcome such as a failed compare);
 *   <li>{@code info}: anything else, above all a write whose outcome is unknown (deadline passed,
 *       connection lost) and any unexpected exception. Recording such a write as {@code fail} would
 *       make the checkers lie.
 * </ul>
 */
public final class Recorder {
  private final HistoryWriter history;

  /** Records into {@code history}. */
  public Recorder(HistoryWriter history) {
    this.history = history;
  }

  /** A client call whose result becomes the completion's value. */
  @FunctionalInterface
  public interface Call {
    /** Performs the operation. */
    JsonNode run();
  }

  /**
   * Records the invocation, runs the call, records the completion.
   *
   * @return the completion entry
   */
  public Event record(int process, String f, String key, JsonNode argument, Call call) {
    history.append(process, Event.Type.INVOKE, f, key, argument, null);
    try {
      JsonNode result = call.run();
      return history.append(process, Event.Type.OK, f, key, result, null);
    } catch (RoostException e) {
      Event.Type type = e.outcomeUnknown() ? Event.Type.INFO : Event.Type.FAIL;
      return history.append(process, type, f, key, null, e.code() + ": " + e.getMessage());
    } catch (RuntimeException e) {
      return history.append(process, Event.Type.INFO, f, key, null, String.valueOf(e));
    }
  }

  /** Whether a failure is a definite "not found": the key or user does not exist. */
  public static boolean notFound(RoostException e) {
    return !e.outcomeUnknown() && e.code() == StatusCode.NOT_FOUND;
  }
}

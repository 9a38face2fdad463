package dev.roost.chaos.history;

/**
 * An invocation paired with its completion.
 *
 * @param index position among the history's operations, in invocation order
 * @param invoke the invocation
 * @param completion the completion, or null if the history ends before it
 */
public record Operation(int index, Event invoke, Event completion) {

  /** The outcome; {@link Event.Type#INFO} when there is no completion. */
  public Event.Type outcome() {
    return completion == null ? Event.Type.INFO : completion.type();
  }

  /** The operation name. */
  public String f() {
    return invoke.f();
  }

  /** The key the operation is about. */
  public String key() {
    return invoke.key();
  }

  /** Time of completion; {@link Long#MAX_VALUE} for one that may take effect at any later time. */
  public long end() {
    return outcome() == Event.Type.INFO ? Long.MAX_VALUE : completion.time();
  }

  /** A compact one-line form for reports. */
  public String describe() {
    StringBuilder b =
        new StringBuilder()
            .append("p")
            .append(invoke.process())
            .append(' ')
            .append(invoke.f())
            .append(' ')
            .append(invoke.key())
            .append(' ')
            .append(invoke.value());
    b.append(" -> ").append(outcome().wire());
    if (completion != null) {
      b.append(' ').append(completion.value());
    }
    b.append(" [").append(invoke.time() / 1_000_000).append(" ms, ");
    b.append(completion == null ? "never" : completion.time() / 1_000_000 + " ms").append(']');
    return b.toString();
  }
}

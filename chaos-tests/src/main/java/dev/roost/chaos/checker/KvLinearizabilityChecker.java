package dev.roost.chaos.checker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.roost.chaos.history.Event;
import dev.roost.chaos.history.History;
import dev.roost.chaos.history.Operation;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Checks that the kv operations on each key are linearizable against a register with
 * compare-and-set, with the search of Wing and Gong as improved by Lowe ("just-in-time
 * linearization" with memoisation over the pair (set of operations linearized, register value)),
 * the algorithm of Knossos and Porcupine.
 *
 * <p>Keys are independent registers, so each key is checked on its own (P-compositionality), which
 * is what keeps the search small: the workload gives each key a handful of clients and moves to
 * fresh keys every few hundred operations.
 *
 * <p>Operations, as the history file holds them: {@code read} (completion value: the string read,
 * or null when the key does not exist), {@code write} (invocation value: the string written),
 * {@code cas} (invocation value: {@code [expected, new]}). Outcomes: an {@code ok} operation took
 * effect once between its invocation and its completion; a {@code fail} did not take effect and is
 * dropped (for a cas: the compare failed or it was refused before the log); an {@code info} write
 * or cas may take effect at any point after its invocation, or never; an {@code info} or {@code
 * fail} read says nothing and is dropped. Every key starts absent (null).
 */
public final class KvLinearizabilityChecker implements Checker {
  private static final Set<String> FUNCTIONS = Set.of("read", "write", "cas");

  /** Memoised configurations beyond which a key's search gives up (memory bound). */
  private static final int MAX_CONFIGURATIONS = 2_000_000;

  private final Duration timeLimit;

  /**
   * @param timeLimit the time the whole check may take; a key still undecided then makes the
   *     verdict {@link Verdict#UNKNOWN}
   */
  public KvLinearizabilityChecker(Duration timeLimit) {
    this.timeLimit = timeLimit;
  }

  @Override
  public String name() {
    return "kv-linearizability";
  }

  @Override
  public CheckResult check(History history) {
    long deadline = System.nanoTime() + timeLimit.toNanos();
    Map<String, List<Operation>> byKey = new LinkedHashMap<>();
    int ok = 0;
    for (Operation op : history.operations()) {
      if (!FUNCTIONS.contains(op.f())) {
        continue;
      }
      if (op.outcome() == Event.Type.OK) {
        ok++;
      }
      boolean relevant =
          op.outcome() == Event.Type.OK
              || (op.outcome() == Event.Type.INFO && !op.f().equals("read"));
      if (relevant) {
        byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
      }
    }
    if (ok == 0) {
      return new CheckResult(
          name(),
          Verdict.INVALID,
          List.of(new Anomaly("no-ok-operation", "no kv operation completed ok", List.of())),
          "nothing to check");
    }
    List<Anomaly> anomalies = new ArrayList<>();
    List<String> undecided = new ArrayList<>();
    for (Map.Entry<String, List<Operation>> e : byKey.entrySet()) {
      Search search = new Search(e.getValue(), deadline);
      Verdict v = search.run();
      if (v == Verdict.INVALID) {
        anomalies.add(search.anomaly(e.getKey()));
      } else if (v == Verdict.UNKNOWN) {
        undecided.add(e.getKey());
      }
    }
    String note =
        byKey.size()
            + " keys, "
            + ok
            + " ok ops"
            + (undecided.isEmpty() ? "" : "; gave up on keys " + String.join(", ", undecided));
    Verdict verdict =
        !anomalies.isEmpty()
            ? Verdict.INVALID
            : undecided.isEmpty() ? Verdict.VALID : Verdict.UNKNOWN;
    return new CheckResult(name(), verdict, anomalies, note);
  }

  /** One entry of the search's doubly-linked list: an operation's call or return. */
  private static final class Entry {
    final int op;
    final boolean call;
    final long time;
    Entry match;
    Entry prev;
    Entry next;

    Entry(int op, boolean call, long time) {
      this.op = op;
      this.call = call;
      this.time = time;
    }
  }

  /** A memoised configuration: which operations are linearized, and the register's value. */
  private record Configuration(BitSet linearized, String value) {}

  /** A linearization step to undo when backtracking. */
  private record Step(Entry call, String valueBefore) {}

  /** The search for one key. */
  private static final class Search {
    private final List<Operation> ops;
    private final long deadline;
    private final Entry head = new Entry(-1, true, Long.MIN_VALUE);
    private List<Integer> deepest = List.of();
    private int blocking = -1;

    Search(List<Operation> ops, long deadline) {
      this.ops = ops;
      this.deadline = deadline;
      List<Entry> entries = new ArrayList<>();
      for (int i = 0; i < ops.size(); i++) {
        Operation op = ops.get(i);
        Entry call = new Entry(i, true, op.invoke().time());
        entries.add(call);
        if (op.outcome() == Event.Type.OK) {
          Entry ret = new Entry(i, false, op.completion().time());
          call.match = ret;
          entries.add(ret);
        }
      }
      // At equal times calls go first: the operations count as concurrent, the lenient reading.
      entries.sort(
          Comparator.comparingLong((Entry en) -> en.time).thenComparing(en -> en.call ? 0 : 1));
      Entry prev = head;
      for (Entry en : entries) {
        prev.next = en;
        en.prev = prev;
        prev = en;
      }
    }

    Verdict run() {
      int pendingReturns = (int) ops.stream().filter(o -> o.outcome() == Event.Type.OK).count();
      Set<Configuration> seen = new HashSet<>();
      Deque<Step> stack = new ArrayDeque<>();
      BitSet linearized = new BitSet(ops.size());
      String value = null;
      Entry entry = head.next;
      long steps = 0;
      while (pendingReturns > 0) {
        if ((++steps & 0xfff) == 0 && System.nanoTime() > deadline
            || seen.size() > MAX_CONFIGURATIONS) {
          return Verdict.UNKNOWN;
        }
        if (entry != null && entry.call) {
          Operation op = ops.get(entry.op);
          Result r = apply(value, op);
          if (r.legal()) {
            BitSet next = (BitSet) linearized.clone();
            next.set(entry.op);
            if (seen.add(new Configuration(next, r.value()))) {
              stack.push(new Step(entry, value));
              linearized = next;
              value = r.value();
              lift(entry);
              if (entry.match != null) {
                pendingReturns--;
              }
              entry = head.next;
              continue;
            }
          }
          entry = entry.next;
        } else {
          // A return reached with its operation not linearized: undo the latest step.
          if (entry != null && (blocking < 0 || stack.size() > deepest.size())) {
            List<Integer> order = new ArrayList<>();
            stack.descendingIterator().forEachRemaining(s -> order.add(s.call().op));
            deepest = order;
            blocking = entry.op;
          }
          if (stack.isEmpty()) {
            return Verdict.INVALID;
          }
          Step last = stack.pop();
          unlift(last.call());
          linearized = (BitSet) linearized.clone();
          linearized.clear(last.call().op);
          value = last.valueBefore();
          if (last.call().match != null) {
            pendingReturns++;
          }
          entry = last.call().next;
        }
      }
      return Verdict.VALID;
    }

    private record Result(boolean legal, String value) {}

    /** The register model: the value after {@code op}, and whether {@code op} is legal now. */
    private static Result apply(String value, Operation op) {
      JsonNode arg = op.invoke().value();
      switch (op.f()) {
        case "write":
          return new Result(true, text(arg));
        case "read":
          return new Result(Objects.equals(value, text(op.completion().value())), value);
        case "cas":
          if (Objects.equals(value, text(arg.get(0)))) {
            return new Result(true, text(arg.get(1)));
          }
          return new Result(false, value);
        default:
          throw new IllegalArgumentException("not a kv operation: " + op.f());
      }
    }

    private static String text(JsonNode n) {
      return n == null || n.isNull() ? null : n.asText();
    }

    private static void lift(Entry call) {
      call.prev.next = call.next;
      if (call.next != null) {
        call.next.prev = call.prev;
      }
      Entry ret = call.match;
      if (ret != null) {
        ret.prev.next = ret.next;
        if (ret.next != null) {
          ret.next.prev = ret.prev;
        }
      }
    }

    private static void unlift(Entry call) {
      Entry ret = call.match;
      if (ret != null) {
        ret.prev.next = ret;
        if (ret.next != null) {
          ret.next.prev = ret;
        }
      }
      call.prev.next = call;
      if (call.next != null) {
        call.next.prev = call;
      }
    }

    /**
     * The anomaly: the operation that could not be linearized in the deepest attempt, the
     * operations linearized just before it, and those concurrent with it.
     */
    Anomaly anomaly(String key) {
      List<String> involved = new ArrayList<>();
      Operation stuck = ops.get(blocking);
      involved.add("cannot linearize: " + stuck.describe());
      int from = Math.max(0, deepest.size() - 5);
      for (int i : deepest.subList(from, deepest.size())) {
        involved.add("linearized before: " + ops.get(i).describe());
      }
      for (Operation o : ops) {
        if (o != stuck
            && o.invoke().time() < stuck.end()
            && o.end() > stuck.invoke().time()
            && involved.size() < 16) {
          involved.add("concurrent: " + o.describe());
        }
      }
      return new Anomaly(
          "nonlinearizable",
          "key "
              + key
              + ": no linearization of its "
              + ops.size()
              + " operations; the longest linearizable prefix has "
              + deepest.size()
              + " and then "
              + stuck.describe()
              + " cannot take effect",
          involved);
    }
  }
}

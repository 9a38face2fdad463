package dev.roost.domain;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The results of recent writes per client, so that a repeated request id gets the first result
 * instead of being applied again. This is what makes a retried write exactly-once beyond Ratis'
 * in-memory retry cache (which expires after 60 s, is lost on restart and is keyed by the Raft
 * client, not by the application's request).
 *
 * <p>Bounded twice, deterministically: per client, the newest {@link Limits#dedupWindow()} ids (an
 * older id is refused, since whether it was applied can no longer be told); across clients, the
 * {@link Limits#dedupClients()} most recently active ones. Iteration order is access order, which
 * depends only on the sequence of applied commands, so every member evicts the same entries.
 */
final class RequestLog {
  private final Limits limits;
  private final LinkedHashMap<String, Window> clients = new LinkedHashMap<>(16, 0.75f, true);

  RequestLog(Limits limits) {
    this.limits = limits;
  }

  /** One client's remembered results and the highest sequence it has forgotten. */
  static final class Window {
    long forgottenUpTo;
    final TreeMap<Long, Result> results = new TreeMap<>();
  }

  /**
   * The result remembered for {@code id}; an ABORTED result if {@code id} is too old to tell
   * whether it was applied (the client must report the write's outcome as unknown, never as a
   * failure); null if the request is new.
   */
  Result lookup(RequestId id) {
    Window w = clients.get(id.clientId());
    if (w == null) {
      return null;
    }
    Result r = w.results.get(id.sequence());
    if (r == null && id.sequence() <= w.forgottenUpTo) {
      return Result.error(
          Code.ABORTED,
          "request "
              + id.sequence()
              + " of client "
              + id.clientId()
              + " is older than the remembered window; its outcome is unknown");
    }
    return r;
  }

  void record(RequestId id, Result result) {
    Window w = clients.computeIfAbsent(id.clientId(), k -> new Window());
    w.results.put(id.sequence(), result);
    while (w.results.size() > limits.dedupWindow()) {
      w.forgottenUpTo = Math.max(w.forgottenUpTo, w.results.pollFirstEntry().getKey());
    }
    Iterator<Map.Entry<String, Window>> eldest = clients.entrySet().iterator();
    while (clients.size() > limits.dedupClients()) {
      eldest.next();
      eldest.remove();
    }
  }

  /** Clients in eviction order (least recently active first), for snapshots. */
  Map<String, Window> clients() {
    return clients;
  }

  void restore(String clientId, Window window) {
    clients.put(clientId, window);
  }
}

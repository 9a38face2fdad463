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
  private final StateHash hash;
  private final LinkedHashMap<String, Window> clients = new LinkedHashMap<>(16, 0.75f, true);

  /** A log that adds what it remembers to, and removes what it forgets from, {@code hash}. */
  RequestLog(Limits limits, StateHash hash) {
    this.limits = limits;
    this.hash = hash;
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

  /** Remembers the result of a request that {@link #lookup} found new. */
  void record(RequestId id, Result result) {
    String client = id.clientId();
    Window w = clients.get(client);
    if (w == null) {
      w = new Window();
      clients.put(client, w);
      hash.client(1, client, w.forgottenUpTo);
    }
    w.results.put(id.sequence(), result);
    hash.result(1, client, id.sequence(), result);
    long forgottenUpTo = w.forgottenUpTo;
    while (w.results.size() > limits.dedupWindow()) {
      Map.Entry<Long, Result> oldest = w.results.pollFirstEntry();
      hash.result(-1, client, oldest.getKey(), oldest.getValue());
      forgottenUpTo = Math.max(forgottenUpTo, oldest.getKey());
    }
    if (forgottenUpTo != w.forgottenUpTo) {
      hash.client(-1, client, w.forgottenUpTo);
      w.forgottenUpTo = forgottenUpTo;
      hash.client(1, client, forgottenUpTo);
    }
    Iterator<Map.Entry<String, Window>> eldest = clients.entrySet().iterator();
    while (clients.size() > limits.dedupClients()) {
      Map.Entry<String, Window> evicted = eldest.next();
      eldest.remove();
      hash(-1, evicted.getKey(), evicted.getValue());
    }
  }

  /** Adds everything remembered to the hash, once the log has been restored from a snapshot. */
  void rehash() {
    clients.forEach((client, w) -> hash(1, client, w));
  }

  private void hash(int sign, String client, Window w) {
    hash.client(sign, client, w.forgottenUpTo);
    w.results.forEach((sequence, result) -> hash.result(sign, client, sequence, result));
  }

  /** Clients in eviction order (least recently active first), for snapshots. */
  Map<String, Window> clients() {
    return clients;
  }

  void restore(String clientId, Window window) {
    clients.put(clientId, window);
  }
}

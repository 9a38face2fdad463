package dev.roost.chaos.workload;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.roost.chaos.checker.Checker;
import dev.roost.chaos.checker.KvLinearizabilityChecker;
import dev.roost.chaos.history.Event;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.proto.KvEntry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Concurrent reads, writes and compare-and-sets on a few registers. Clients are grouped {@value
 * #CLIENTS_PER_KEY} to a key, and each group moves to a fresh key every {@value #OPS_PER_KEY}
 * operations: the linearizability search is exponential in the concurrency on one key, so this is
 * what keeps it tractable, as in Jepsen's independent keys. Written values are unique per key, so a
 * read names the write it saw.
 */
public final class KvWorkload implements Workload {
  static final int CLIENTS_PER_KEY = 3;
  static final int OPS_PER_KEY = 200;
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final ConcurrentHashMap<Integer, AtomicLong> groupOps = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, AtomicLong> groupValues = new ConcurrentHashMap<>();

  @Override
  public String name() {
    return "kv";
  }

  @Override
  public void setup(int process, RoostClient client, Recorder recorder) {
    // Keys start absent; nothing to prepare.
  }

  @Override
  public void run(
      int process, RoostClient client, Recorder recorder, Random random, BooleanSupplier done) {
    int group = process / CLIENTS_PER_KEY;
    AtomicLong ops = groupOps.computeIfAbsent(group, g -> new AtomicLong());
    AtomicLong values = groupValues.computeIfAbsent(group, g -> new AtomicLong());
    String lastSeen = null;
    String lastKey = null;
    while (!done.getAsBoolean()) {
      String key = "g" + group + "k" + ops.getAndIncrement() / OPS_PER_KEY;
      if (!key.equals(lastKey)) {
        lastSeen = null;
        lastKey = key;
      }
      int dice = random.nextInt(4);
      if (dice < 2) {
        Event op =
            recorder.record(process, "read", key, NullNode.getInstance(), () -> read(client, key));
        if (op.type() == Event.Type.OK) {
          lastSeen = op.value().isNull() ? null : op.value().asText();
        }
      } else if (dice == 2 || lastSeen == null) {
        String v = Long.toString(values.incrementAndGet());
        Event op =
            recorder.record(
                process,
                "write",
                key,
                NODES.textNode(v),
                () -> {
                  client.kvPut(key, bytes(v));
                  return NullNode.getInstance();
                });
        lastSeen = op.type() == Event.Type.OK ? v : lastSeen;
      } else {
        String expected = lastSeen;
        String v = Long.toString(values.incrementAndGet());
        Event op =
            recorder.record(
                process,
                "cas",
                key,
                NODES.arrayNode().add(expected).add(v),
                () -> {
                  client.kvCompareAndSetValue(key, bytes(expected), bytes(v));
                  return NullNode.getInstance();
                });
        lastSeen = op.type() == Event.Type.OK ? v : null;
      }
    }
  }

  private static JsonNode read(RoostClient client, String key) {
    try {
      KvEntry e = client.kvGet(key);
      return NODES.textNode(e.getValue().toString(StandardCharsets.UTF_8));
    } catch (RoostException e) {
      if (Recorder.notFound(e)) {
        return NullNode.getInstance();
      }
      throw e;
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void finalReads(int process, RoostClient client, Recorder recorder) {
    // The linearizability checker needs no final state.
  }

  @Override
  public List<Checker> checkers(Duration timeLimit) {
    return List.of(new KvLinearizabilityChecker(timeLimit));
  }
}

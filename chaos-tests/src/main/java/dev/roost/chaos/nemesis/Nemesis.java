package dev.roost.chaos.nemesis;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roost.chaos.cluster.ClusterControl;
import dev.roost.chaos.history.Event;
import dev.roost.chaos.history.HistoryWriter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link Schedule} against a cluster and writes each fault's start and end into the history
 * as entries of process {@link Event#NEMESIS} ({@code f} {@code start} or {@code stop}, {@code key}
 * the fault, {@code value} the nodes and details), so that the report reads the fault intervals
 * from the history file like everything else.
 *
 * <p>Partition faults on a backend that cannot partition are recorded as {@code skip} entries and
 * counted in {@link #skipped()}; the run goes on with the other faults.
 */
public final class Nemesis implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(Nemesis.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ClusterControl cluster;
  private final Schedule schedule;
  private final HistoryWriter history;
  private final long origin;
  private volatile boolean stopped;
  private volatile int skipped;

  /**
   * @param origin the {@link System#nanoTime()} at which the schedule's offsets start
   */
  public Nemesis(ClusterControl cluster, Schedule schedule, HistoryWriter history, long origin) {
    this.cluster = cluster;
    this.schedule = schedule;
    this.history = history;
    this.origin = origin;
  }

  /** Makes {@link #run()} return at its next step; the caller then calls {@link #healAll()}. */
  public void stop() {
    stopped = true;
  }

  /** How many planned faults were skipped because the backend cannot partition. */
  public int skipped() {
    return skipped;
  }

  @Override
  public void run() {
    for (ScheduleStep step : schedule.steps()) {
      if (!sleepUntil(step.at())) {
        return;
      }
      if (step.kind().isPartition() && !cluster.supportsPartitions()) {
        skipped++;
        LOG.warn("SKIPPED {}: this backend cannot partition ({})", step.kind(), cluster.describe());
        record("skip", step.kind(), List.of(), "backend cannot partition");
        continue;
      }
      try {
        Runnable heal = inject(step);
        sleepUntil(step.at() + step.durationMillis());
        heal.run();
      } catch (IOException | RuntimeException e) {
        LOG.error("fault {} failed", step.kind(), e);
        record("error", step.kind(), List.of(), String.valueOf(e));
        healAll();
      }
    }
  }

  /** Injects the step's fault and returns what heals it. */
  private Runnable inject(ScheduleStep step) throws IOException {
    List<String> nodes = cluster.nodes();
    Random random = new Random(step.choice());
    String randomNode = nodes.get(random.nextInt(nodes.size()));
    String leader = cluster.leader().orElse(null);
    FaultKind kind = step.kind();
    switch (kind) {
      case KILL_RANDOM, KILL_LEADER -> {
        String target = kind == FaultKind.KILL_LEADER && leader != null ? leader : randomNode;
        cluster.kill(target);
        record("start", kind, List.of(target), leader == null ? "no leader seen" : "");
        return () -> heal(kind, List.of(target), () -> cluster.start(target));
      }
      case PAUSE_RANDOM, PAUSE_LEADER -> {
        String target = kind == FaultKind.PAUSE_LEADER && leader != null ? leader : randomNode;
        cluster.pause(target);
        record("start", kind, List.of(target), leader == null ? "no leader seen" : "");
        return () -> heal(kind, List.of(target), () -> cluster.resume(target));
      }
      default -> {
        List<String> shuffled = new ArrayList<>(nodes);
        Collections.shuffle(shuffled, random);
        List<List<String>> sides = new ArrayList<>();
        String bridge = null;
        if (kind == FaultKind.PARTITION_LEADER) {
          String isolated = leader != null ? leader : randomNode;
          List<String> rest = new ArrayList<>(nodes);
          rest.remove(isolated);
          sides.add(List.of(isolated));
          sides.add(rest);
        } else if (kind == FaultKind.PARTITION_HALVES) {
          int minority = (nodes.size() - 1) / 2;
          sides.add(shuffled.subList(0, minority));
          sides.add(shuffled.subList(minority, shuffled.size()));
        } else {
          bridge = shuffled.get(0);
          List<String> rest = shuffled.subList(1, shuffled.size());
          sides.add(rest.subList(0, rest.size() / 2));
          sides.add(rest.subList(rest.size() / 2, rest.size()));
        }
        cluster.partition(cut(sides));
        String detail = sides + (bridge == null ? "" : " bridged by " + bridge);
        record("start", kind, nodes, detail);
        return () -> heal(kind, nodes, cluster::heal);
      }
    }
  }

  /** A symmetric cut: every node of one side cannot reach any node of another. */
  private static Map<String, Set<String>> cut(List<List<String>> sides) {
    Map<String, Set<String>> unreachable = new HashMap<>();
    for (List<String> side : sides) {
      for (List<String> other : sides) {
        if (other != side) {
          for (String n : side) {
            unreachable.computeIfAbsent(n, k -> new HashSet<>()).addAll(other);
          }
        }
      }
    }
    return unreachable;
  }

  private interface Action {
    void run() throws IOException;
  }

  private void heal(FaultKind kind, List<String> nodes, Action action) {
    try {
      action.run();
      record("stop", kind, nodes, "");
    } catch (IOException e) {
      LOG.error("healing {} failed", kind, e);
      record("error", kind, nodes, String.valueOf(e));
    }
  }

  /**
   * Ends every fault: resumes paused nodes, removes cuts, restarts stopped nodes. Safe to call more
   * than once.
   *
   * @return false if some node could not be brought back
   */
  public boolean healAll() {
    boolean ok = true;
    try {
      cluster.heal();
    } catch (IOException e) {
      LOG.error("heal failed", e);
      ok = false;
    }
    for (String n : cluster.nodes()) {
      try {
        if (cluster.running(n)) {
          cluster.resume(n);
        } else {
          cluster.start(n);
        }
      } catch (IOException e) {
        LOG.error("cannot bring {} back", n, e);
        ok = false;
      }
    }
    return ok;
  }

  private void record(String f, FaultKind kind, List<String> nodes, String detail) {
    ObjectNode value = JSON.createObjectNode();
    value.set("nodes", JSON.valueToTree(nodes));
    if (!detail.isEmpty()) {
      value.put("detail", detail);
    }
    history.append(Event.NEMESIS, Event.Type.INFO, f, kind.wire(), value, null);
    LOG.info("nemesis {} {} {} {}", f, kind.wire(), nodes, detail);
  }

  private boolean sleepUntil(long offsetMillis) {
    while (!stopped) {
      long left = offsetMillis - (System.nanoTime() - origin) / 1_000_000;
      if (left <= 0) {
        return true;
      }
      try {
        Thread.sleep(Math.min(left, 100));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }
}

package dev.roost.chaos.nemesis;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The faults the nemesis injects, grouped in families named on the command line ({@code --nemesis
 * kill,pause,partition}). Healing a kill restarts the killed node on its data: "restart after
 * kill".
 */
public enum FaultKind {
  /** SIGKILL a random node; restart it when healing. */
  KILL_RANDOM("kill"),
  /** SIGKILL the leader; restart it when healing. */
  KILL_LEADER("kill"),
  /** SIGSTOP a random node; SIGCONT when healing. */
  PAUSE_RANDOM("pause"),
  /** SIGSTOP the leader; SIGCONT when healing. */
  PAUSE_LEADER("pause"),
  /** Cut the leader off from every other node. */
  PARTITION_LEADER("partition"),
  /** Split the nodes into a random majority and minority. */
  PARTITION_HALVES("partition"),
  /** Two halves that cannot reach each other, and one node that reaches both. */
  PARTITION_BRIDGE("partition");

  private final String family;

  FaultKind(String family) {
    this.family = family;
  }

  /** The family name used on the command line. */
  public String family() {
    return family;
  }

  /** Whether this fault needs a backend that can partition. */
  public boolean isPartition() {
    return family.equals("partition");
  }

  /** The name in histories and reports, e.g. {@code kill-leader}. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The kinds of one family. */
  public static List<FaultKind> ofFamily(String family) {
    List<FaultKind> kinds = Arrays.stream(values()).filter(k -> k.family.equals(family)).toList();
    if (kinds.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown nemesis '" + family + "'; use kill, pause, partition or all");
    }
    return kinds;
  }
}

package dev.roost.chaos;

import dev.roost.client.ReadConsistency;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One chaos run's settings.
 *
 * @param workload {@code kv} or {@code social}
 * @param nemesis fault families ({@code kill}, {@code pause}, {@code partition}); empty for none
 * @param time how long the clients run under faults
 * @param clients concurrent client processes
 * @param nodes cluster size
 * @param seed drives the nemesis schedule, its targets and the clients' choices
 * @param out the run directory
 * @param faultTime {min, max} duration of one fault, in milliseconds
 * @param healTime {min, max} healed time between faults, in milliseconds
 * @param checkTime the time limit of each checker
 * @param serverJar the roost-server jar
 * @param serverArgs extra flags for every server
 * @param namespaces whether to use network namespaces when the machine allows
 * @param readConsistency how the clients read; anything but linearizable is expected to be caught
 *     by the kv checker, which is how the suite is shown to find stale reads
 */
public record RunOptions(
    String workload,
    List<String> nemesis,
    Duration time,
    int clients,
    int nodes,
    long seed,
    Path out,
    long[] faultTime,
    long[] healTime,
    Duration checkTime,
    Path serverJar,
    List<String> serverArgs,
    boolean namespaces,
    ReadConsistency readConsistency) {

  /** Copies the lists. */
  public RunOptions {
    nemesis = List.copyOf(nemesis);
    serverArgs = List.copyOf(serverArgs);
  }

  /** The same run with other workload, nemesis and directory: for the matrix. */
  public RunOptions cell(String workload, List<String> nemesis, Path out) {
    return new RunOptions(
        workload,
        nemesis,
        time,
        clients,
        nodes,
        seed,
        out,
        faultTime,
        healTime,
        checkTime,
        serverJar,
        serverArgs,
        namespaces,
        readConsistency);
  }

  /** The command line that repeats this run. */
  public String command() {
    StringBuilder b =
        new StringBuilder("./roost chaos --workload ")
            .append(workload)
            .append(" --nemesis ")
            .append(nemesis.isEmpty() ? "none" : String.join(",", nemesis))
            .append(" --time ")
            .append(time.toMillis())
            .append("ms --clients ")
            .append(clients)
            .append(" --nodes ")
            .append(nodes)
            .append(" --seed ")
            .append(seed)
            .append(" --fault-time ")
            .append(faultTime[0])
            .append("ms-")
            .append(faultTime[1])
            .append("ms --heal-time ")
            .append(healTime[0])
            .append("ms-")
            .append(healTime[1])
            .append("ms");
    for (String a : serverArgs) {
      b.append(" --server-arg=").append(a);
    }
    if (!namespaces) {
      b.append(" --no-namespaces");
    }
    if (readConsistency != ReadConsistency.LINEARIZABLE) {
      b.append(" --read-consistency ")
          .append(readConsistency.name().toLowerCase(java.util.Locale.ROOT));
    }
    return b.append(" --out ").append(out).toString();
  }
}

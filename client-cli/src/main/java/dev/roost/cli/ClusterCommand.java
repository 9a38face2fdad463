package dev.roost.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roost.client.ClusterStatus;
import dev.roost.client.ClusterStatus.Member;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code roost cluster status}: every member's view of the Raft group. */
@Command(
    name = "cluster",
    description = "Inspect the Raft group.",
    subcommands = {ClusterCommand.Status.class})
final class ClusterCommand {

  @Command(
      name = "status",
      description = "Each member's role, term, leader, indexes, lag and last contact.")
  static final class Status extends Verb {
    @Override
    void run() throws Exception {
      RoostCli root = root();
      List<Member> members =
          ClusterStatus.fetch(
              root.resolvePeers(), Duration.ofSeconds(Math.min(3, root.timeoutSeconds)));
      long leaderCommit =
          members.stream()
              .filter(m -> m.role().equals("LEADER"))
              .mapToLong(Member::commitIndex)
              .max()
              .orElse(-1);
      Output out = output();
      ArrayNode json = out.object().arrayNode();
      List<List<String>> rows = new ArrayList<>();
      for (Member m : members) {
        ObjectNode o = out.object();
        o.put("id", m.id());
        o.put("address", m.address());
        o.put("reachable", m.reachable());
        if (m.reachable()) {
          o.put("role", m.role());
          o.put("term", m.term());
          o.put("leader", m.leader());
          o.put("commitIndex", m.commitIndex());
          o.put("appliedIndex", m.appliedIndex());
          o.put("snapshotIndex", m.snapshotIndex());
          o.put("lag", leaderCommit < 0 ? -1 : m.lagBehind(leaderCommit));
          o.put("lastContactMs", m.lastContactMs());
        } else {
          o.put("error", m.error());
        }
        json.add(o);
        rows.add(
            m.reachable()
                ? List.of(
                    m.id(),
                    m.address(),
                    m.role(),
                    Long.toString(m.term()),
                    m.leader().isEmpty() ? "-" : m.leader(),
                    Long.toString(m.commitIndex()),
                    Long.toString(m.appliedIndex()),
                    leaderCommit < 0 ? "-" : Long.toString(m.lagBehind(leaderCommit)),
                    m.lastContactMs() < 0 ? "-" : m.lastContactMs() + " ms")
                : List.of(m.id(), m.address(), "UNREACHABLE", "-", "-", "-", "-", "-", "-"));
      }
      if (out.json()) {
        out.print(json);
      } else {
        out.table(
            rows,
            "ID",
            "ADDRESS",
            "ROLE",
            "TERM",
            "LEADER",
            "COMMIT",
            "APPLIED",
            "LAG",
            "LAST CONTACT");
      }
    }
  }
}

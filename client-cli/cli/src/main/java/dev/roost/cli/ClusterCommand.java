package dev.roost.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roost.client.AdminClient;
import dev.roost.client.ClusterStatus;
import dev.roost.client.ClusterStatus.Member;
import dev.roost.testkit.LocalCluster;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;

/**
 * {@code roost cluster ...}: the Raft group's status (for everyone) and its administration (for the
 * operator): add, remove, transfer, snapshot.
 *
 * <p>These talk to the servers' HTTP endpoints, not the Raft port: {@code --http-endpoints}, else
 * {@code ROOST_HTTP_ENDPOINTS}, else the local cluster's. The admin verbs need the admin secret:
 * {@code --admin-secret}, else {@code ROOST_ADMIN_SECRET}, else the local cluster's; without it the
 * servers refuse with {@code PERMISSION_DENIED}. See {@link AdminClient} for the refusals.
 */
@Command(
    name = "cluster",
    description = "Inspect and administer the Raft group.",
    subcommands = {
      ClusterCommand.Status.class,
      ClusterCommand.Add.class,
      ClusterCommand.Remove.class,
      ClusterCommand.Transfer.class,
      ClusterCommand.Snapshot.class
    })
final class ClusterCommand {
  @Option(
      names = "--http-endpoints",
      scope = ScopeType.INHERIT,
      paramLabel = "HOST:PORT,...",
      description =
          "HTTP endpoints of the members (default: $ROOST_HTTP_ENDPOINTS, else the local"
              + " cluster).")
  String httpEndpoints;

  @Option(
      names = "--admin-secret",
      scope = ScopeType.INHERIT,
      paramLabel = "SECRET",
      description =
          "Admin secret of the cluster (default: $ROOST_ADMIN_SECRET, else the local cluster's).")
  String adminSecret;

  /** Base of the cluster verbs: endpoints and secret resolved as the class comment says. */
  abstract static class ClusterVerb extends Verb {
    @ParentCommand ClusterCommand parent;

    List<String> endpoints() throws IOException, CliException {
      String spec =
          parent.httpEndpoints != null
              ? parent.httpEndpoints
              : System.getenv("ROOST_HTTP_ENDPOINTS");
      if (spec != null && !spec.isBlank()) {
        return Arrays.stream(spec.split(",")).map(String::strip).filter(e -> !e.isEmpty()).toList();
      }
      return root()
          .localCluster()
          .map(LocalCluster::httpEndpoints)
          .filter(e -> !e.isEmpty())
          .orElseThrow(
              () ->
                  CliException.usage(
                      "no HTTP endpoints: pass --http-endpoints, set ROOST_HTTP_ENDPOINTS, or"
                          + " start a local cluster with ./roost up"));
    }

    String secret() throws IOException {
      if (parent.adminSecret != null) {
        return parent.adminSecret;
      }
      String env = System.getenv("ROOST_ADMIN_SECRET");
      if (env != null && !env.isBlank()) {
        return env.strip();
      }
      Optional<LocalCluster> local = root().localCluster();
      return local.isPresent() ? local.get().adminSecret() : null;
    }

    AdminClient admin() throws IOException, CliException {
      return new AdminClient(endpoints(), secret(), statusTimeout());
    }

    Duration statusTimeout() {
      return Duration.ofSeconds(Math.max(1, Math.min(3, root().timeoutSeconds)));
    }

    /** Prints an admin result: the JSON as is, or its outcome in a line. */
    void printResult(JsonNode result) {
      Output out = output();
      if (out.json()) {
        out.print(result);
      } else {
        root()
            .out()
            .println(
                result.path("outcome").asText()
                    + " "
                    + result.path("id").asText()
                    + " (term "
                    + result.path("term").asText()
                    + ", commit index "
                    + result.path("commitIndex").asText()
                    + ")");
      }
    }
  }

  @Command(
      name = "status",
      description =
          "Every member's id, address, role, term, commit and applied index, lag and last contact.")
  static final class Status extends ClusterVerb {
    @Override
    public void run() throws Exception {
      List<Member> members = ClusterStatus.fetch(endpoints(), statusTimeout());
      long leaderCommit =
          members.stream()
              .filter(m -> m.reachable() && m.role().equals("LEADER"))
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
        o.put("role", m.role());
        o.put("commitIndex", m.commitIndex());
        o.put("lastContactMs", m.lastContactMs());
        if (m.reachable()) {
          o.put("term", m.term());
          o.put("leader", m.leader());
          o.put("appliedIndex", m.appliedIndex());
          o.put("snapshotIndex", m.snapshotIndex());
          o.put("lag", leaderCommit < 0 ? -1 : m.lagBehind(leaderCommit));
        } else {
          o.put("error", m.error());
        }
        json.add(o);
        rows.add(
            List.of(
                m.id(),
                m.address(),
                m.reachable()
                    ? m.role()
                    : "UNREACHABLE" + (m.role().isEmpty() ? "" : " " + m.role()),
                m.reachable() ? Long.toString(m.term()) : "-",
                m.commitIndex() < 0 ? "-" : Long.toString(m.commitIndex()),
                m.reachable() ? Long.toString(m.appliedIndex()) : "-",
                leaderCommit < 0 || !m.reachable() ? "-" : Long.toString(m.lagBehind(leaderCommit)),
                m.lastContactMs() < 0 ? "-" : m.lastContactMs() + " ms"));
      }
      if (out.json()) {
        out.print(json);
      } else {
        out.table(
            rows, "ID", "ADDRESS", "ROLE", "TERM", "COMMIT", "APPLIED", "LAG", "LAST CONTACT");
      }
    }
  }

  @Command(
      name = "add",
      description =
          "Add a server started with --join: it gets the log without a vote, and becomes a voting"
              + " member once it has caught up.")
  static final class Add extends ClusterVerb {
    @Parameters(index = "0", paramLabel = "ID", description = "The new member's id.")
    String id;

    @Parameters(index = "1", paramLabel = "HOST:PORT", description = "Its Raft address.")
    String address;

    @Override
    public void run() throws Exception {
      printResult(admin().add(id, address));
    }
  }

  @Command(
      name = "remove",
      description = "Remove a member; if it leads, leadership moves to another member first.")
  static final class Remove extends ClusterVerb {
    @Parameters(paramLabel = "ID", description = "The member's id.")
    String id;

    @Override
    public void run() throws Exception {
      printResult(admin().remove(id));
    }
  }

  @Command(name = "transfer", description = "Make a member the leader.")
  static final class Transfer extends ClusterVerb {
    @Parameters(paramLabel = "ID", description = "The member to lead.")
    String id;

    @Override
    public void run() throws Exception {
      printResult(admin().transfer(id));
    }
  }

  @Command(name = "snapshot", description = "Take a snapshot on every member that answers, now.")
  static final class Snapshot extends ClusterVerb {
    @Override
    public void run() throws Exception {
      Map<String, JsonNode> results = admin().snapshotAll();
      Output out = output();
      if (out.json()) {
        ObjectNode o = out.object();
        results.forEach(o::set);
        out.print(o);
        return;
      }
      List<List<String>> rows = new ArrayList<>();
      results.forEach(
          (id, r) ->
              rows.add(
                  List.of(
                      id,
                      r.path("code").asText(),
                      r.has("snapshotIndex")
                          ? r.path("snapshotIndex").asText()
                          : r.path("message").asText())));
      out.table(rows, "ID", "RESULT", "SNAPSHOT INDEX");
    }
  }
}

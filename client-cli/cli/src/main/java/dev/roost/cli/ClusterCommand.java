package dev.roost.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roost.client.AdminClient;
import dev.roost.client.ClusterStatus;
import dev.roost.proto.AdminReply;
import dev.roost.proto.ClusterMember;
import dev.roost.proto.ErrorReply;
import dev.roost.testkit.LocalCluster;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
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
      ClusterCommand.Snapshot.class,
      ClusterCommand.SettingsVerb.class
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
      return new AdminClient(endpoints(), root().tls(), secret(), statusTimeout());
    }

    Duration statusTimeout() {
      return Duration.ofSeconds(Math.max(1, Math.min(3, root().timeoutSeconds)));
    }

    /** Prints an admin reply: as the server's JSON, or its outcome in a line. */
    void printResult(AdminReply result) {
      Output out = output();
      if (out.json()) {
        out.print(out.proto(result));
      } else {
        root()
            .out()
            .println(
                result.getOutcome()
                    + " "
                    + result.getId()
                    + " (term "
                    + result.getTerm()
                    + ", commit index "
                    + result.getCommitIndex()
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
      List<ClusterMember> members =
          ClusterStatus.fetch(endpoints(), root().tls(), statusTimeout()).getMembersList();
      Output out = output();
      ArrayNode json = out.object().arrayNode();
      List<List<String>> rows = new ArrayList<>();
      for (ClusterMember m : members) {
        ObjectNode o = out.object();
        o.put("id", m.getId());
        o.put("address", m.getAddress());
        o.put("clientAddress", m.getClientAddress());
        o.put("reachable", m.getReachable());
        o.put("role", m.getRole());
        o.put("commitIndex", m.getCommitIndex());
        o.put("lastContactMs", m.getLastContactMs());
        if (m.getReachable()) {
          o.put("term", m.getTerm());
          o.put("leader", m.getLeader());
          o.put("appliedIndex", m.getAppliedIndex());
          o.put("snapshotIndex", m.getSnapshotIndex());
          o.put("lag", m.getLag());
          o.put("tlsExpiresMs", m.getTlsExpiresMs());
        } else {
          o.put("error", m.getError());
        }
        json.add(o);
        rows.add(
            List.of(
                m.getId(),
                addresses(m),
                m.getReachable()
                    ? m.getRole()
                    : "UNREACHABLE" + (m.getRole().isEmpty() ? "" : " " + m.getRole()),
                m.getReachable() ? Long.toString(m.getTerm()) : "-",
                m.getCommitIndex() < 0 ? "-" : Long.toString(m.getCommitIndex()),
                m.getReachable() ? Long.toString(m.getAppliedIndex()) : "-",
                !m.getReachable() || m.getLag() < 0 ? "-" : Long.toString(m.getLag()),
                m.getLastContactMs() < 0 ? "-" : m.getLastContactMs() + " ms",
                m.getTlsExpiresMs() <= 0
                    ? "-"
                    : DateTimeFormatter.ISO_LOCAL_DATE.format(
                        Instant.ofEpochMilli(m.getTlsExpiresMs()).atOffset(ZoneOffset.UTC))));
      }
      if (out.json()) {
        out.print(json);
      } else {
        out.table(
            rows,
            "ID",
            "PEER/CLIENT",
            "ROLE",
            "TERM",
            "COMMIT",
            "APPLIED",
            "LAG",
            "LAST CONTACT",
            "CERT EXPIRES");
      }
    }

    /** The member's peer and client address, the client's as a port alone on the same host. */
    private static String addresses(ClusterMember m) {
      String peer = m.getAddress();
      String client = m.getClientAddress();
      if (client.isEmpty() || client.equals(peer)) {
        return peer;
      }
      int colon = peer.lastIndexOf(':');
      return colon > 0 && client.startsWith(peer.substring(0, colon + 1))
          ? peer + "/" + client.substring(colon + 1)
          : peer + "/" + client;
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

    @Parameters(
        index = "1",
        paramLabel = "HOST:PORT/PORT",
        description =
            "Its peer address and client address, as in its --peers entry: HOST:PEER_PORT/"
                + "CLIENT_PORT or HOST:PEER_PORT/HOST:CLIENT_PORT.")
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
      Map<String, AdminClient.SnapshotResult> results = admin().snapshotAll();
      Output out = output();
      if (out.json()) {
        ObjectNode o = out.object();
        results.forEach(
            (id, r) ->
                o.set(
                    id,
                    r.reply().isPresent()
                        ? out.proto(r.reply().get())
                        : out.proto(r.error().orElseThrow())));
        out.print(o);
        return;
      }
      List<List<String>> rows = new ArrayList<>();
      results.forEach(
          (id, r) ->
              rows.add(
                  r.reply()
                      .map(
                          reply ->
                              List.of(
                                  id,
                                  reply.getCode().name(),
                                  Long.toString(reply.getSnapshotIndex())))
                      .orElseGet(
                          () -> {
                            ErrorReply error = r.error().orElseThrow();
                            return List.of(id, error.getCode().name(), error.getMessage());
                          })));
      out.table(rows, "ID", "RESULT", "SNAPSHOT INDEX");
    }
  }

  @Command(
      name = "settings",
      description = {
        "Show the cluster's settings, or change those named: through the log, so that every"
            + " member applies writes by the same ones."
      })
  static final class SettingsVerb extends ClusterVerb {
    @Option(
        names = "--max-post-length",
        paramLabel = "N",
        description = "Longest post, in code points.")
    int maxPostLength;

    @Option(names = "--max-users", paramLabel = "N", description = "Quota of users.")
    long maxUsers;

    @Option(names = "--max-posts", paramLabel = "N", description = "Quota of posts.")
    long maxPosts;

    @Option(names = "--max-follow-edges", paramLabel = "N", description = "Quota of follow edges.")
    long maxFollowEdges;

    @Option(
        names = "--max-following",
        paramLabel = "N",
        description = "Accounts one user may follow.")
    int maxFollowing;

    @Option(names = "--max-keys", paramLabel = "N", description = "Quota of keys.")
    long maxKeys;

    @Option(
        names = "--max-kv-bytes",
        paramLabel = "N",
        description = "Quota of key and value bytes.")
    long maxKvBytes;

    @Option(names = "--max-sessions", paramLabel = "N", description = "Client sessions kept open.")
    int maxSessions;

    @Option(
        names = "--session-replies",
        paramLabel = "N",
        description = "Replies a session keeps until its client has seen them.")
    int sessionReplies;

    @Option(
        names = "--session-timeout-ms",
        paramLabel = "MS",
        description = "How long a session may see no write before it expires.")
    long sessionTimeoutMs;

    @Override
    public void run() throws Exception {
      dev.roost.proto.Settings changes =
          dev.roost.proto.Settings.newBuilder()
              .setMaxPostLength(maxPostLength)
              .setMaxUsers(maxUsers)
              .setMaxPosts(maxPosts)
              .setMaxFollowEdges(maxFollowEdges)
              .setMaxFollowing(maxFollowing)
              .setMaxKeys(maxKeys)
              .setMaxKvBytes(maxKvBytes)
              .setMaxSessions(maxSessions)
              .setSessionReplies(sessionReplies)
              .setSessionTimeoutMs(sessionTimeoutMs)
              .build();
      AdminReply reply = admin().settings(changes);
      Output out = output();
      if (out.json()) {
        out.print(out.proto(reply.getSettings()));
        return;
      }
      List<List<String>> rows = new ArrayList<>();
      reply
          .getSettings()
          .getAllFields()
          .forEach((field, value) -> rows.add(List.of(field.getName(), value.toString())));
      out.table(rows, "SETTING", "VALUE");
    }
  }
}

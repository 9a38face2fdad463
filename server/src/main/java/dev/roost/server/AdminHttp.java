package dev.roost.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.roost.api.Peers;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP admin endpoint of one server, on the JDK's built-in HTTP server. It starts before Ratis
 * so that liveness probes pass while a large log is replayed. Every path answers GET and HEAD:
 *
 * <ul>
 *   <li>{@code /health}: 200 {@code ok} while the process runs and Ratis has not closed this
 *       member; 503 otherwise. For liveness probes: restart the process when it fails.
 *   <li>{@code /ready}: 200 {@code ready} when this member can serve (see {@link
 *       MemberState#notReadyReason}); 503 with the reason otherwise. For readiness probes and for
 *       scripts that wait for a cluster.
 *   <li>{@code /status}: 200 with a JSON {@link Status}; 503 before Ratis has started.
 *   <li>{@code /metrics}: 200 with every metric in the Prometheus text format ({@link
 *       PrometheusExport}), also before Ratis has started.
 *   <li>{@code /admin/...}: the authenticated admin operations of {@link AdminEndpoint}, once
 *       {@link #attachAdmin} has installed them.
 * </ul>
 */
final class AdminHttp implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AdminHttp.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The JSON body of {@code /status}, one object with these camelCase fields. Scripts and the CLI
   * parse it: add fields, never rename or remove one.
   *
   * @param id this member's id
   * @param role {@code LEADER}, {@code FOLLOWER}, {@code CANDIDATE} or {@code LISTENER}
   * @param term the current term
   * @param leader the leader's id, or {@code null} when none is known
   * @param commitIndex this member's commit index
   * @param appliedIndex the last log index its state machine applied
   * @param leaderCommitIndex the leader's commit index as this member last learned it, or -1
   * @param peers the members of the current configuration, sorted by id, each with {@code id} and
   *     {@code address} ({@code host:port})
   * @param ready what {@code /ready} would answer now
   * @param address this member's Raft address ("" until it is a member)
   * @param lastContactMs see {@link MemberView#lastContactMs}
   * @param snapshotIndex the index of this member's latest snapshot, -1 if none
   * @param members on the leader, its view of every member (see {@link MemberView.Member}); empty
   *     elsewhere
   */
  record Status(
      String id,
      String role,
      long term,
      String leader,
      long commitIndex,
      long appliedIndex,
      long leaderCommitIndex,
      List<MemberState.Peer> peers,
      boolean ready,
      String address,
      long lastContactMs,
      long snapshotIndex,
      List<MemberView.Member> members) {}

  private record Response(int code, String contentType, byte[] body) {
    static Response text(int code, String body) {
      return new Response(
          code, "text/plain; charset=utf-8", (body + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  private interface Endpoint {
    Response respond() throws IOException;
  }

  private final HttpServer server;
  private final PrometheusExport metrics;
  private volatile RaftServer raft;

  private AdminHttp(HttpServer server, PrometheusExport metrics) {
    this.server = server;
    this.metrics = metrics;
    route("/health", this::health);
    route("/ready", this::ready);
    route("/status", this::status);
    route("/metrics", this::metrics);
  }

  /**
   * Resolves and binds {@code address}, and starts serving.
   *
   * @param metrics what {@code /metrics} serves
   * @throws ConfigException naming {@code --http} if the host is unknown or the address cannot be
   *     bound
   */
  static AdminHttp start(InetSocketAddress address, PrometheusExport metrics)
      throws ConfigException {
    InetSocketAddress resolved = new InetSocketAddress(address.getHostString(), address.getPort());
    if (resolved.isUnresolved()) {
      throw new ConfigException("--http: unknown host '" + address.getHostString() + "'");
    }
    HttpServer server;
    try {
      server = HttpServer.create(resolved, 0);
    } catch (IOException e) {
      throw new ConfigException(
          "--http: cannot bind "
              + address.getHostString()
              + ":"
              + address.getPort()
              + ": "
              + e.getMessage());
    }
    AdminHttp http = new AdminHttp(server, metrics);
    server.start();
    return http;
  }

  /** Starts answering {@code /ready} and {@code /status} from {@code started}. */
  void attach(RaftServer started) {
    this.raft = started;
  }

  /** Serves {@code /admin/} with {@code admin} from now on. */
  void attachAdmin(HttpHandler admin) {
    server.createContext("/admin/", admin);
  }

  /** Stops serving at once: a probe in flight sees its connection closed. */
  @Override
  public void close() {
    server.stop(0);
  }

  private Response health() {
    Optional<MemberState> state = memberState();
    if (state.isPresent() && !state.get().alive()) {
      return Response.text(503, "raft server closed");
    }
    return Response.text(200, "ok");
  }

  private Response ready() {
    Optional<MemberState> state = memberState();
    if (state.isEmpty()) {
      return Response.text(503, notAttachedReason());
    }
    return state
        .get()
        .notReadyReason()
        .map(reason -> Response.text(503, reason))
        .orElse(Response.text(200, "ready"));
  }

  private Response status() throws IOException {
    Optional<MemberState> state = memberState();
    if (state.isEmpty()) {
      return Response.text(503, notAttachedReason());
    }
    MemberState s = state.get();
    MemberView view = MemberView.read(raft.getDivision(Peers.GROUP_ID));
    Status status =
        new Status(
            s.id(),
            s.role(),
            s.term(),
            s.leader(),
            s.commitIndex(),
            s.appliedIndex(),
            s.leaderCommitIndex(),
            s.peers(),
            s.notReadyReason().isEmpty(),
            view.address(),
            view.lastContactMs(),
            view.snapshotIndex(),
            view.members());
    return new Response(
        200,
        "application/json",
        (JSON.writeValueAsString(status) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  private Response metrics() throws IOException {
    return new Response(200, metrics.contentType(), metrics.scrape());
  }

  /** This member's state, or empty before Ratis started or once the group is gone. */
  private Optional<MemberState> memberState() {
    return MemberState.of(raft);
  }

  private String notAttachedReason() {
    return raft == null ? "starting" : "not a member of the group";
  }

  private void route(String path, Endpoint endpoint) {
    server.createContext(path, exchange -> serve(exchange, path, endpoint));
  }

  private static void serve(HttpExchange exchange, String path, Endpoint endpoint)
      throws IOException {
    try {
      String method = exchange.getRequestMethod();
      Response response;
      if (!exchange.getRequestURI().getPath().equals(path)) {
        // A context matches every path it prefixes; only the exact path exists.
        response = Response.text(404, "not found");
      } else if (!method.equals("GET") && !method.equals("HEAD")) {
        response = Response.text(405, "use GET");
      } else {
        response = respond(endpoint);
      }
      byte[] body = response.body();
      exchange.getResponseHeaders().set("Content-Type", response.contentType());
      if (method.equals("HEAD")) {
        exchange.sendResponseHeaders(response.code(), -1);
      } else {
        exchange.sendResponseHeaders(response.code(), body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    } finally {
      exchange.close();
    }
  }

  private static Response respond(Endpoint endpoint) {
    try {
      return endpoint.respond();
    } catch (IOException | RuntimeException e) {
      LOG.warn("admin request failed", e);
      return Response.text(500, "internal error: " + e);
    }
  }
}

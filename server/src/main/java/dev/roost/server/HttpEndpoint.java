package dev.roost.server;

import com.google.protobuf.MessageOrBuilder;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.roost.api.ControlJson;
import dev.roost.api.HttpStatus;
import dev.roost.api.Peers;
import dev.roost.proto.ErrorReply;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoint of one server ({@code --http}), on the JDK's built-in HTTP server: probes,
 * status, metrics and the admin operations. It starts before Ratis so that liveness probes pass
 * while a large log is replayed. Every path but {@code /admin/} answers GET and HEAD:
 *
 * <ul>
 *   <li>{@code /health}: 200 {@code ok} while the process runs and Ratis has not closed this
 *       member; 503 otherwise. For liveness probes: restart the process when it fails.
 *   <li>{@code /ready}: 200 {@code ready} when this member can serve (see {@link
 *       RaftReading#notReadyReason}); 503 with the reason otherwise. For readiness probes and for
 *       scripts that wait for a cluster.
 *   <li>{@code /status}: 200 with this member's {@link MemberStatus} as proto-JSON ({@link
 *       ControlJson}); 503 with an {@link ErrorReply} ({@code UNAVAILABLE}) before Ratis has
 *       started or once this server holds no member of the group.
 *   <li>{@code /metrics}: 200 with every metric in the Prometheus text format ({@link
 *       PrometheusExport}), also before Ratis has started.
 *   <li>{@code /admin/...}: the authenticated admin operations of {@link AdminEndpoint}, once
 *       {@link #attachAdmin} has installed them.
 * </ul>
 */
final class HttpEndpoint implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoint.class);

  private record Response(int code, String contentType, byte[] body) {
    static Response text(int code, String body) {
      return new Response(
          code, "text/plain; charset=utf-8", (body + "\n").getBytes(StandardCharsets.UTF_8));
    }

    static Response json(int code, MessageOrBuilder message) {
      return new Response(
          code,
          ControlJson.CONTENT_TYPE,
          (ControlJson.print(message) + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  private interface Endpoint {
    Response respond() throws IOException;
  }

  private final HttpServer server;
  private final PrometheusExport metrics;
  private volatile RaftServer raft;

  private HttpEndpoint(HttpServer server, PrometheusExport metrics) {
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
  static HttpEndpoint start(InetSocketAddress address, PrometheusExport metrics)
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
    HttpEndpoint http = new HttpEndpoint(server, metrics);
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
    Optional<RaftReading> state = raftReading();
    if (state.isPresent() && !state.get().alive()) {
      return Response.text(503, "raft server closed");
    }
    return Response.text(200, "ok");
  }

  private Response ready() {
    Optional<RaftReading> state = raftReading();
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
    Optional<RaftReading> state = raftReading();
    if (state.isEmpty()) {
      return Response.json(
          HttpStatus.of(StatusCode.UNAVAILABLE),
          ErrorReply.newBuilder().setCode(StatusCode.UNAVAILABLE).setMessage(notAttachedReason()));
    }
    return Response.json(
        200, status(state.get(), MembershipReading.read(raft.getDivision(Peers.GROUP_ID))));
  }

  /** What {@code /status} serves for one reading of this member. */
  static MemberStatus status(RaftReading s, MembershipReading view) {
    return MemberStatus.newBuilder()
        .setId(s.id())
        .setRole(MembershipReading.role(s.role()))
        .setTerm(s.term())
        .setLeader(s.leader() == null ? "" : s.leader())
        .setCommitIndex(s.commitIndex())
        .setAppliedIndex(s.appliedIndex())
        .setLeaderCommitIndex(s.leaderCommitIndex())
        .addAllPeers(s.peers())
        .setReady(s.notReadyReason().isEmpty())
        .setAddress(view.address())
        .setLastContactMs(view.lastContactMs())
        .setSnapshotIndex(view.snapshotIndex())
        .addAllMembers(view.members())
        .build();
  }

  private Response metrics() throws IOException {
    return new Response(200, metrics.contentType(), metrics.scrape());
  }

  /** This member's state, or empty before Ratis started or once the group is gone. */
  private Optional<RaftReading> raftReading() {
    return RaftReading.of(raft);
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
      LOG.warn("HTTP request failed", e);
      return Response.text(500, "internal error: " + e);
    }
  }
}

package dev.roost.server;

import dev.roost.api.ControlJson;
import dev.roost.api.Peers;
import dev.roost.api.Pem;
import dev.roost.proto.ErrorReply;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import org.apache.ratis.server.RaftServer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoint of one server ({@code --http}), on Jetty's core API: probes, status, metrics
 * and the admin operations, over HTTPS with the member's certificate unless {@code --insecure}. It
 * starts before Ratis so that liveness probes pass while a large log is replayed. Every path but
 * {@code /admin/} answers GET and HEAD:
 *
 * <ul>
 *   <li>{@code /health}: 200 {@code ok} while the process runs, Ratis has not closed this member
 *       and {@link StallWatch} does not find it stuck; 503 with the reason otherwise. For liveness
 *       probes: restart the process when it fails.
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
 *
 * <p>Hostile or broken clients: Jetty parses requests without holding a thread while it waits for
 * bytes, so a client that sends part of a request and stalls holds one connection, never a thread,
 * and never delays anyone's probe; the connection is closed after {@link #IDLE_TIMEOUT} without a
 * byte either way. Request headers over {@link #MAX_HEADER_BYTES} are refused with 431. A failure
 * inside an endpoint is logged and answered 500 without its message; Jetty's own error answers
 * (400, 431, ...) carry the status line only.
 */
final class HttpEndpoint implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoint.class);

  /**
   * Threads that run requests, Jetty's acceptor and selector included. Probes, status and scrapes
   * take milliseconds, and admin operations wait on a pool of their own ({@link AdminEndpoint}).
   */
  static final int THREADS = 12;

  /** A connection with no byte in either direction for this long is closed. */
  static final Duration IDLE_TIMEOUT = Duration.ofSeconds(5);

  /** The largest request line plus headers; a probe or an admin request needs a few hundred. */
  static final int MAX_HEADER_BYTES = 8 * 1024;

  private interface Endpoint {
    HttpAnswer respond() throws IOException;
  }

  private final Server server;
  private final PrometheusExport metrics;
  private final long tlsExpiresMs;
  private volatile RaftServer raft;
  private volatile StallWatch stall;
  private volatile Request.Handler admin;

  private HttpEndpoint(Server server, PrometheusExport metrics, long tlsExpiresMs) {
    this.server = server;
    this.metrics = metrics;
    this.tlsExpiresMs = tlsExpiresMs;
  }

  /**
   * Resolves and binds {@code address}, and starts serving.
   *
   * @param tls the member's certificate and key to serve HTTPS with, or null for plain HTTP
   * @param metrics what {@code /metrics} serves
   * @throws ConfigException naming {@code --http} if the host is unknown or the address cannot be
   *     bound
   */
  static HttpEndpoint start(InetSocketAddress address, TlsFiles tls, PrometheusExport metrics)
      throws ConfigException {
    InetSocketAddress resolved = new InetSocketAddress(address.getHostString(), address.getPort());
    if (resolved.isUnresolved()) {
      throw new ConfigException("--http: unknown host '" + address.getHostString() + "'");
    }
    QueuedThreadPool threads = new QueuedThreadPool(THREADS);
    threads.setName("roost-http");
    Server server = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setRequestHeaderSize(MAX_HEADER_BYTES);
    http.setSendServerVersion(false);
    ServerConnector connector;
    if (tls == null) {
      connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
    } else {
      SslContextFactory.Server ssl = new SslContextFactory.Server();
      ssl.setKeyStore(Pem.keyStore(tls.cert(), tls.key()));
      ssl.setKeyStorePassword(Pem.KEY_PASSWORD);
      SecureRequestCustomizer secure = new SecureRequestCustomizer();
      // Clients check the certificate against the host they asked for; probes ask by pod IP,
      // which a certificate naming the pod's DNS name does not hold.
      secure.setSniHostCheck(false);
      http.addCustomizer(secure);
      connector =
          new ServerConnector(
              server,
              1,
              1,
              new SslConnectionFactory(ssl, HttpVersion.HTTP_1_1.asString()),
              new HttpConnectionFactory(http));
    }
    connector.setHost(resolved.getAddress().getHostAddress());
    connector.setPort(resolved.getPort());
    connector.setIdleTimeout(IDLE_TIMEOUT.toMillis());
    server.addConnector(connector);
    server.setErrorHandler(new StatusLineErrors());
    HttpEndpoint endpoint =
        new HttpEndpoint(server, metrics, tls == null ? 0 : tls.notAfter().toEpochMilli());
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback)
              throws Exception {
            return endpoint.handle(request, response, callback);
          }
        });
    try {
      // Bound here rather than in start(), which would log the failure as Jetty's own.
      connector.open();
    } catch (IOException e) {
      Throwable why = e.getCause() == null ? e : e.getCause();
      throw new ConfigException(
          "--http: cannot bind "
              + address.getHostString()
              + ":"
              + address.getPort()
              + ": "
              + why.getMessage());
    }
    try {
      server.start();
    } catch (Exception e) {
      endpoint.close();
      throw new IllegalStateException("the HTTP server did not start", e);
    }
    return endpoint;
  }

  /**
   * Starts answering {@code /ready} and {@code /status} from {@code started}, and failing {@code
   * /health} while {@code stall} finds it stuck.
   */
  void attach(RaftServer started, StallWatch stall) {
    this.stall = stall;
    this.raft = started;
  }

  /** Serves {@code /admin/} with {@code admin} from now on. */
  void attachAdmin(Request.Handler admin) {
    this.admin = admin;
  }

  /** Stops serving at once: a probe in flight sees its connection closed. */
  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      LOG.warn("stopping the HTTP endpoint failed", e);
    }
  }

  private boolean handle(Request request, Response response, Callback callback) throws Exception {
    String path = request.getHttpURI().getPath();
    Request.Handler admin = this.admin;
    if (admin != null && path.startsWith("/admin/")) {
      return admin.handle(request, response, callback);
    }
    Endpoint endpoint =
        switch (path) {
          case "/health" -> this::health;
          case "/ready" -> this::ready;
          case "/status" -> this::status;
          case "/metrics" -> this::metrics;
          default -> null;
        };
    String method = request.getMethod();
    HttpAnswer answer;
    if (endpoint == null) {
      answer = HttpAnswer.text(404, "not found");
    } else if (!method.equals("GET") && !method.equals("HEAD")) {
      answer = HttpAnswer.text(405, "use GET");
    } else {
      answer = respond(path, endpoint);
    }
    answer.send(response, callback);
    return true;
  }

  private HttpAnswer health() {
    Optional<RaftReading> state = raftReading();
    if (state.isPresent() && !state.get().alive()) {
      return HttpAnswer.text(503, "raft server closed");
    }
    StallWatch watch = stall;
    Optional<String> stuck = watch == null ? Optional.empty() : watch.stalled();
    return stuck.map(reason -> HttpAnswer.text(503, reason)).orElse(HttpAnswer.text(200, "ok"));
  }

  private HttpAnswer ready() {
    Optional<RaftReading> state = raftReading();
    if (state.isEmpty()) {
      return HttpAnswer.text(503, notAttachedReason());
    }
    return state
        .get()
        .notReadyReason()
        .map(reason -> HttpAnswer.text(503, reason))
        .orElse(HttpAnswer.text(200, "ready"));
  }

  private HttpAnswer status() throws IOException {
    Optional<RaftReading> state = raftReading();
    if (state.isEmpty()) {
      return HttpAnswer.error(StatusCode.UNAVAILABLE, notAttachedReason());
    }
    return HttpAnswer.json(
        200,
        status(
            state.get(), MembershipReading.read(raft.getDivision(Peers.GROUP_ID)), tlsExpiresMs));
  }

  /**
   * What {@code /status} serves for one reading of this member.
   *
   * @param tlsExpiresMs when the member's certificate expires, 0 without TLS
   */
  static MemberStatus status(RaftReading s, MembershipReading view, long tlsExpiresMs) {
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
        .setClientAddress(view.clientAddress())
        .setLastContactMs(view.lastContactMs())
        .setSnapshotIndex(view.snapshotIndex())
        .addAllMembers(view.members())
        .setTlsExpiresMs(tlsExpiresMs)
        .build();
  }

  private HttpAnswer metrics() throws IOException {
    return new HttpAnswer(200, metrics.contentType(), metrics.scrape());
  }

  /** This member's state, or empty before Ratis started or once the group is gone. */
  private Optional<RaftReading> raftReading() {
    return RaftReading.of(raft);
  }

  private String notAttachedReason() {
    return raft == null ? "starting" : "not a member of the group";
  }

  private static HttpAnswer respond(String path, Endpoint endpoint) {
    try {
      return endpoint.respond();
    } catch (IOException | RuntimeException e) {
      // The message may name classes, files or peers: the log gets it, the client does not.
      LOG.warn("HTTP {} failed", path, e);
      return HttpAnswer.text(500, "internal error");
    }
  }

  /**
   * Jetty's answers to requests it refuses itself (a malformed request line, headers over {@link
   * #MAX_HEADER_BYTES}): the status line as text, never the failure's message.
   */
  private static final class StatusLineErrors extends ErrorHandler {
    @Override
    protected void generateResponse(
        Request request,
        Response response,
        int code,
        String message,
        Throwable cause,
        Callback callback) {
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
      Content.Sink.write(
          response,
          true,
          code + " " + org.eclipse.jetty.http.HttpStatus.getMessage(code) + "\n",
          callback);
    }
  }
}

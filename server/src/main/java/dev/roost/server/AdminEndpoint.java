package dev.roost.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The authenticated admin operations of one server, under {@code /admin/} on its HTTP endpoint:
 *
 * <pre>
 * POST /admin/add?id=ID&amp;address=HOST:PORT   add a server started with --join (on the leader)
 * POST /admin/remove?id=ID                  remove a member (on the leader; not the leader itself)
 * POST /admin/transfer?id=ID                make ID the leader (on the leader)
 * POST /admin/snapshot                      take a snapshot of this member now (any member)
 * </pre>
 *
 * <p>Every request must carry {@code Authorization: Bearer SECRET} with the server's {@code
 * --admin-secret}; without it, or when the server has none, the answer is 403 with code {@code
 * PERMISSION_DENIED} and nothing is looked at. This is the only way to change the membership:
 * Ratis' own admin RPC service has no authentication hook, so Roost servers refuse it ({@link
 * RatisAdminRefusal}), and {@link ClusterAdmin} calls the Ratis server in-process.
 *
 * <p>Every answer is a JSON object with {@code code} ({@code OK} or an error code of the Roost
 * vocabulary) and either the operation's result or a {@code message}. A leader-only operation sent
 * to a follower answers {@code UNAVAILABLE} with {@code leader}: the id of the leader to ask (""
 * when none is known). Operations run on a small pool of their own, so that a membership change
 * that waits for a new server to catch up never delays {@code /health} or {@code /ready}.
 */
final class AdminEndpoint implements HttpHandler {
  private static final Logger LOG = LoggerFactory.getLogger(AdminEndpoint.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final AdminSecret secret;
  private final ClusterAdmin admin;
  private final ExecutorService workers =
      Executors.newFixedThreadPool(
          4,
          r -> {
            Thread t = new Thread(r, "roost-admin");
            t.setDaemon(true);
            return t;
          });

  /**
   * @param secret the configured secret, or null: every request is then refused
   */
  AdminEndpoint(AdminSecret secret, ClusterAdmin admin) {
    this.secret = secret;
    this.admin = admin;
  }

  @Override
  public void handle(HttpExchange exchange) {
    try {
      workers.execute(() -> serve(exchange));
    } catch (RejectedExecutionException e) {
      exchange.close();
    }
  }

  private void serve(HttpExchange exchange) {
    int status;
    Map<String, Object> body;
    try {
      Map<String, Object> result = dispatch(exchange);
      status = 200;
      body = new LinkedHashMap<>();
      body.put("code", "OK");
      body.putAll(result);
    } catch (AdminException e) {
      status = httpStatus(e.code());
      body = new LinkedHashMap<>();
      body.put("code", e.code().name());
      body.put("message", e.getMessage());
      if (e.leader() != null) {
        body.put("leader", e.leader());
      }
    } catch (RuntimeException e) {
      LOG.warn("admin request {} failed", exchange.getRequestURI().getPath(), e);
      status = 500;
      body = Map.of("code", "INTERNAL", "message", e.toString());
    }
    try {
      byte[] bytes = (JSON.writeValueAsString(body) + "\n").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } catch (IOException e) {
      LOG.debug("could not answer an admin request", e);
    } finally {
      exchange.close();
    }
  }

  private Map<String, Object> dispatch(HttpExchange exchange) throws AdminException {
    if (!exchange.getRequestMethod().equals("POST")) {
      throw new AdminException(StatusCode.INVALID_ARGUMENT, "use POST");
    }
    if (secret == null) {
      throw new AdminException(
          StatusCode.PERMISSION_DENIED,
          "admin operations are disabled on this server: it has no --admin-secret");
    }
    String auth = exchange.getRequestHeaders().getFirst("Authorization");
    if (auth == null || !auth.startsWith("Bearer ") || !secret.matches(auth.substring(7))) {
      throw new AdminException(
          StatusCode.PERMISSION_DENIED,
          "admin operations need the admin secret (--admin-secret or ROOST_ADMIN_SECRET)");
    }
    Map<String, String> params = query(exchange.getRequestURI().getRawQuery());
    return switch (exchange.getRequestURI().getPath()) {
      case "/admin/add" -> admin.add(param(params, "id"), param(params, "address"));
      case "/admin/remove" -> admin.remove(param(params, "id"));
      case "/admin/transfer" -> admin.transfer(param(params, "id"));
      case "/admin/snapshot" -> admin.snapshot();
      default ->
          throw new AdminException(
              StatusCode.NOT_FOUND, "no admin operation " + exchange.getRequestURI().getPath());
    };
  }

  private static String param(Map<String, String> params, String name) throws AdminException {
    String v = params.get(name);
    if (v == null || v.isBlank()) {
      throw new AdminException(StatusCode.INVALID_ARGUMENT, "missing parameter '" + name + "'");
    }
    return v.strip();
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new HashMap<>();
    if (raw == null) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        out.put(
            URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private static int httpStatus(StatusCode code) {
    return switch (code) {
      case INVALID_ARGUMENT -> 400;
      case PERMISSION_DENIED -> 403;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, FAILED_PRECONDITION -> 409;
      case DEADLINE_EXCEEDED -> 504;
      case UNAVAILABLE -> 503;
      default -> 500;
    };
  }

  /** Stops taking requests; operations in flight finish on their own. */
  void close() {
    workers.shutdown();
  }
}

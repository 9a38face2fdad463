package dev.roost.server;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.roost.api.ControlJson;
import dev.roost.api.HttpStatus;
import dev.roost.proto.AddMemberRequest;
import dev.roost.proto.AdminReply;
import dev.roost.proto.ErrorReply;
import dev.roost.proto.RemoveMemberRequest;
import dev.roost.proto.StatusCode;
import dev.roost.proto.TransferLeadershipRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
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
 * POST /admin/add       AddMemberRequest            add a server started with --join (on the leader)
 * POST /admin/remove    RemoveMemberRequest         remove a member (on the leader; not itself)
 * POST /admin/transfer  TransferLeadershipRequest   make a member the leader (on the leader)
 * POST /admin/snapshot  SnapshotRequest             take a snapshot of this member now (any member)
 * </pre>
 *
 * <p>The request is its message in proto-JSON ({@link ControlJson}) as the body, e.g. {@code
 * {"id":"n4","address":"10.0.0.4:7001"}}; with an empty body the fields are read from query
 * parameters of the same names ({@code ?id=n4&amp;address=...}), for {@code curl} and for clients
 * older than the typed body.
 *
 * <p>Every request must carry {@code Authorization: Bearer SECRET} with the server's {@code
 * --admin-secret}; without it, or when the server has none, the answer is 403 with code {@code
 * PERMISSION_DENIED} and nothing is looked at. This is the only way to change the membership:
 * Ratis' own admin RPC service has no authentication hook, so Roost servers refuse it ({@link
 * RatisAdminRefusal}), and {@link ClusterAdmin} calls the Ratis server in-process.
 *
 * <p>Every answer is proto-JSON: an {@link AdminReply} with HTTP 200 once the operation is done, or
 * an {@link ErrorReply} with its code's HTTP status ({@link HttpStatus}). A leader-only operation
 * sent to a follower answers {@code UNAVAILABLE} with {@code leader}: the id of the leader to ask
 * ("" when none is known). Operations run on a small pool of their own, so that a membership change
 * that waits for a new server to catch up never delays {@code /health} or {@code /ready}.
 */
final class AdminEndpoint implements HttpHandler {
  private static final Logger LOG = LoggerFactory.getLogger(AdminEndpoint.class);

  /** The largest request body read; a request is a few short strings. */
  private static final int MAX_BODY_BYTES = 64 * 1024;

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
    MessageOrBuilder body;
    try {
      body = dispatch(exchange);
      status = 200;
    } catch (AdminException e) {
      ErrorReply.Builder error =
          ErrorReply.newBuilder().setCode(e.code()).setMessage(e.getMessage());
      if (e.leader() != null) {
        error.setLeader(e.leader());
      }
      body = error;
      status = HttpStatus.of(e.code());
    } catch (RuntimeException e) {
      LOG.warn("admin request {} failed", exchange.getRequestURI().getPath(), e);
      body = ErrorReply.newBuilder().setCode(StatusCode.INTERNAL).setMessage(e.toString());
      status = HttpStatus.of(StatusCode.INTERNAL);
    }
    try {
      byte[] bytes = (ControlJson.print(body) + "\n").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", ControlJson.CONTENT_TYPE);
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

  private AdminReply dispatch(HttpExchange exchange) throws AdminException {
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
    String path = exchange.getRequestURI().getPath();
    String body = body(exchange);
    Map<String, String> params = query(exchange.getRequestURI().getRawQuery());
    AdminReply reply =
        switch (path) {
          case "/admin/add" -> {
            AddMemberRequest r = request(body, params, AddMemberRequest.getDefaultInstance());
            yield admin.add(required(r.getId(), "id"), required(r.getAddress(), "address"));
          }
          case "/admin/remove" ->
              admin.remove(
                  required(
                      request(body, params, RemoveMemberRequest.getDefaultInstance()).getId(),
                      "id"));
          case "/admin/transfer" ->
              admin.transfer(
                  required(
                      request(body, params, TransferLeadershipRequest.getDefaultInstance()).getId(),
                      "id"));
          case "/admin/snapshot" -> admin.snapshot();
          default -> throw new AdminException(StatusCode.NOT_FOUND, "no admin operation " + path);
        };
    return reply.toBuilder().setCode(StatusCode.OK).build();
  }

  private static String body(HttpExchange exchange) throws AdminException {
    try (InputStream in = exchange.getRequestBody()) {
      byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
      if (bytes.length > MAX_BODY_BYTES) {
        throw new AdminException(
            StatusCode.INVALID_ARGUMENT,
            "request body over " + MAX_BODY_BYTES + " bytes; an admin request is a few fields");
      }
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AdminException(
          StatusCode.INVALID_ARGUMENT, "could not read the request body: " + e.getMessage());
    }
  }

  /**
   * The request: the body parsed as {@code prototype}'s message, or, when the body is empty, its
   * string fields from the query parameters named as in the JSON (or as in the proto).
   */
  private static <T extends Message> T request(String body, Map<String, String> params, T prototype)
      throws AdminException {
    if (!body.isBlank()) {
      try {
        return ControlJson.parse(body, prototype);
      } catch (InvalidProtocolBufferException e) {
        throw new AdminException(
            StatusCode.INVALID_ARGUMENT,
            "the body is not a "
                + prototype.getDescriptorForType().getName()
                + " in JSON: "
                + e.getMessage());
      }
    }
    Message.Builder builder = prototype.newBuilderForType();
    for (FieldDescriptor field : prototype.getDescriptorForType().getFields()) {
      String value = params.getOrDefault(field.getJsonName(), params.get(field.getName()));
      if (value != null && field.getJavaType() == FieldDescriptor.JavaType.STRING) {
        builder.setField(field, value);
      }
    }
    @SuppressWarnings("unchecked") // a builder of T's type builds a T
    T built = (T) builder.build();
    return built;
  }

  private static String required(String value, String name) throws AdminException {
    if (value.isBlank()) {
      throw new AdminException(StatusCode.INVALID_ARGUMENT, "missing parameter '" + name + "'");
    }
    return value.strip();
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

  /** Stops taking requests; operations in flight finish on their own. */
  void close() {
    workers.shutdown();
  }
}

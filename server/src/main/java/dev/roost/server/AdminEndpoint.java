package dev.roost.server;

import static java.util.stream.Collectors.joining;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.roost.api.ControlJson;
import dev.roost.api.HttpStatus;
import dev.roost.proto.AddMemberRequest;
import dev.roost.proto.AdminReply;
import dev.roost.proto.ErrorReply;
import dev.roost.proto.RemoveMemberRequest;
import dev.roost.proto.StatusCode;
import dev.roost.proto.TransferLeadershipRequest;
import dev.roost.proto.UpdateSettingsRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.Invocable.InvocationType;
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
 * POST /admin/settings  UpdateSettingsRequest       change or show the settings (on the leader)
 * </pre>
 *
 * <p>The request is its message in proto-JSON ({@link ControlJson}) as the body, e.g. {@code
 * {"id":"n4","address":"10.0.0.4:7001"}}; with an empty body the fields are read from query
 * parameters of the same names ({@code ?id=n4&amp;address=...}), for {@code curl} and for clients
 * older than the typed body.
 *
 * <p>Every request must carry {@code Authorization: Bearer SECRET} with the server's {@code
 * --admin-secret}; without it, or when the server has none, the answer is 403 with code {@code
 * PERMISSION_DENIED} and nothing else is looked at: the secret is checked first, before the method,
 * the body or the path. An address that sent {@link AuthThrottle#MAX_FAILURES} wrong secrets within
 * {@link AuthThrottle#WINDOW} is answered 429 ({@code RESOURCE_EXHAUSTED}) with a {@code
 * Retry-After} header, whatever secret it sends, until that window ends. A body must come with a
 * {@code Content-Length} (411 otherwise) of at most {@link #MAX_BODY_BYTES} (413 otherwise), both
 * {@code INVALID_ARGUMENT}; nothing runs for either. This is the only way to change the membership:
 * Ratis' own admin RPC service has no authentication hook, so Roost servers refuse it ({@link
 * RatisAdminRefusal}), and {@link ClusterAdmin} calls the Ratis server in-process.
 *
 * <p>Every answer is proto-JSON: an {@link AdminReply} with HTTP 200 once the operation is done, or
 * an {@link ErrorReply} with its code's HTTP status ({@link HttpStatus}). A leader-only operation
 * sent to a follower answers {@code UNAVAILABLE} with {@code leader}: the id of the leader to ask
 * ("" when none is known). A failure this endpoint did not foresee is logged and answered {@code
 * INTERNAL} without its message. The body is read without holding a thread, and operations run on a
 * small pool of their own, so that a slow client or a membership change that waits for a new server
 * to catch up never delays {@code /health} or {@code /ready}.
 */
final class AdminEndpoint implements Request.Handler {
  private static final Logger LOG = LoggerFactory.getLogger(AdminEndpoint.class);

  /** The largest request body read; a request is a few short strings. */
  static final int MAX_BODY_BYTES = 64 * 1024;

  private final AdminSecret secret;
  private final ClusterAdmin admin;
  private final SettingsAdmin settings;
  private final AuthThrottle throttle;
  private final ExecutorService workers =
      Executors.newFixedThreadPool(4, DaemonThreads.named("roost-admin"));

  /**
   * @param secret the configured secret, or null: every request is then refused
   * @param throttle where wrong secrets are counted
   */
  AdminEndpoint(
      AdminSecret secret, ClusterAdmin admin, SettingsAdmin settings, AuthThrottle throttle) {
    this.secret = secret;
    this.admin = admin;
    this.settings = settings;
    this.throttle = throttle;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    String path = request.getHttpURI().getPath();
    String from = Request.getRemoteAddr(request);
    Optional<Duration> locked = throttle.lockedOut(from);
    if (locked.isPresent()) {
      long seconds = Math.max(1, (locked.get().toMillis() + 999) / 1000);
      response.getHeaders().put(HttpHeader.RETRY_AFTER, seconds);
      HttpAnswer.error(
              StatusCode.RESOURCE_EXHAUSTED,
              "too many wrong admin secrets from " + from + "; try again in " + seconds + " s")
          .send(response, callback);
      return true;
    }
    HttpAnswer refusal = refusal(request, path, from);
    if (refusal != null) {
      refusal.send(response, callback);
      return true;
    }
    Content.Source.asByteArrayAsync(
        request,
        MAX_BODY_BYTES,
        Promise.Invocable.from(
            InvocationType.NON_BLOCKING,
            (byte[] body, Throwable failure) -> {
              if (failure != null) {
                unreadable(path, from, failure).send(response, callback);
                return;
              }
              try {
                workers.execute(() -> run(request, path, from, body).send(response, callback));
              } catch (RejectedExecutionException e) {
                HttpAnswer.error(StatusCode.UNAVAILABLE, "the server is stopping")
                    .send(response, callback);
              }
            }));
    return true;
  }

  /** Why {@code request} is refused before its body is read, or null if it is not. */
  private HttpAnswer refusal(Request request, String path, String from) {
    if (secret == null) {
      return HttpAnswer.error(
          StatusCode.PERMISSION_DENIED,
          "admin operations are disabled on this server: it has no --admin-secret");
    }
    String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
    if (auth == null || !auth.startsWith("Bearer ") || !secret.matches(auth.substring(7))) {
      LOG.info("admin {} from {} refused: wrong or missing admin secret", path, from);
      if (throttle.failed(from)) {
        LOG.warn(
            "admin: {} sent {} wrong secrets; refusing it for up to {} s",
            from,
            AuthThrottle.MAX_FAILURES,
            AuthThrottle.WINDOW.toSeconds());
      }
      return HttpAnswer.error(
          StatusCode.PERMISSION_DENIED,
          "admin operations need the admin secret (--admin-secret or ROOST_ADMIN_SECRET)");
    }
    throttle.succeeded(from);
    if (!request.getMethod().equals("POST")) {
      return HttpAnswer.error(StatusCode.INVALID_ARGUMENT, "use POST");
    }
    // A body of unknown length could only be refused part-way through reading it, where Jetty
    // 12.1.13 fails the finished request a second time (an NPE logged as a warning).
    if (request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) {
      return HttpAnswer.error(
          411, StatusCode.INVALID_ARGUMENT, "send the request body with a Content-Length");
    }
    if (request.getLength() > MAX_BODY_BYTES) {
      return HttpAnswer.error(
          413,
          StatusCode.INVALID_ARGUMENT,
          "request body over " + MAX_BODY_BYTES + " bytes; an admin request is a few fields");
    }
    return null;
  }

  private static HttpAnswer unreadable(String path, String from, Throwable failure) {
    LOG.debug("admin {} from {}: could not read the body", path, from, failure);
    return HttpAnswer.error(StatusCode.INVALID_ARGUMENT, "could not read the request body");
  }

  /** Performs the operation {@code request} asks for. */
  private HttpAnswer run(Request request, String path, String from, byte[] bytes) {
    try {
      String body = new String(bytes, StandardCharsets.UTF_8);
      AdminReply reply =
          switch (path) {
            case "/admin/add" -> {
              AddMemberRequest r = request(body, request, AddMemberRequest.getDefaultInstance());
              yield admin.add(
                  required(r.getId(), "id"),
                  required(r.getAddress(), "address"),
                  required(r.getClientAddress(), "clientAddress"));
            }
            case "/admin/remove" ->
                admin.remove(
                    required(
                        request(body, request, RemoveMemberRequest.getDefaultInstance()).getId(),
                        "id"));
            case "/admin/transfer" ->
                admin.transfer(
                    required(
                        request(body, request, TransferLeadershipRequest.getDefaultInstance())
                            .getId(),
                        "id"));
            case "/admin/snapshot" -> admin.snapshot();
            case "/admin/settings" ->
                settings.update(
                    request(body, request, UpdateSettingsRequest.getDefaultInstance())
                        .getSettings());
            default -> throw new AdminException(StatusCode.NOT_FOUND, "no admin operation " + path);
          };
      return HttpAnswer.json(200, reply.toBuilder().setCode(StatusCode.OK));
    } catch (AdminException e) {
      ErrorReply.Builder error =
          ErrorReply.newBuilder().setCode(e.code()).setMessage(e.getMessage());
      if (e.leader() != null) {
        error.setLeader(e.leader());
      }
      return HttpAnswer.json(HttpStatus.of(e.code()), error);
    } catch (RuntimeException e) {
      // The message may name classes, files or peers: the log gets it, the client does not.
      LOG.warn("admin {} from {} failed", path, from, e);
      return HttpAnswer.error(
          StatusCode.INTERNAL, "internal error; the server's log has the details");
    }
  }

  /**
   * The request: the body parsed as {@code prototype}'s message, or, when the body is empty, its
   * string fields from the query parameters named as in the JSON (or as in the proto).
   */
  private static <T extends Message> T request(String body, Request http, T prototype)
      throws AdminException {
    List<FieldDescriptor> fields = prototype.getDescriptorForType().getFields();
    if (!body.isBlank()) {
      try {
        return ControlJson.parse(body, prototype);
      } catch (InvalidProtocolBufferException e) {
        // The parser's message quotes the input and names parser internals: not for the client.
        throw new AdminException(
            StatusCode.INVALID_ARGUMENT,
            "the body is not a "
                + prototype.getDescriptorForType().getName()
                + " in JSON (an object with the fields "
                + fields.stream().map(FieldDescriptor::getJsonName).collect(joining(", "))
                + ")");
      }
    }
    Fields params;
    try {
      params = Request.extractQueryParameters(http);
    } catch (RuntimeException e) {
      // Jetty's HttpException: a bad %-escape or invalid UTF-8, the caller's to fix.
      throw new AdminException(
          StatusCode.INVALID_ARGUMENT, "the query string is not URL-encoded UTF-8");
    }
    Message.Builder builder = prototype.newBuilderForType();
    for (FieldDescriptor field : fields) {
      String value = params.getValue(field.getJsonName());
      if (value == null) {
        value = params.getValue(field.getName());
      }
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

  /** Stops taking requests; operations in flight finish on their own. */
  void close() {
    workers.shutdown();
  }
}

package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.api.ControlJson;
import dev.roost.proto.ErrorReply;
import dev.roost.proto.StatusCode;
import dev.roost.testkit.LoopbackPorts;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the admin endpoint refuses before any operation runs: wrong secrets (and addresses that sent
 * too many), oversized bodies; and what it says when an operation fails unexpectedly. There is no
 * Ratis server behind it ({@link ClusterAdmin} is null), so an operation that ran would fail with a
 * {@link NullPointerException}, answered as {@code INTERNAL}.
 */
class AdminEndpointTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final String SECRET = "0123456789abcdef-secret";

  /** The throttle's clock, moved by the tests. */
  private final AtomicLong nanos = new AtomicLong();

  private HttpEndpoint endpoint;
  private int port;

  @BeforeEach
  void start() throws Exception {
    port = LoopbackPorts.one();
    endpoint =
        HttpEndpoint.start(
            new InetSocketAddress("127.0.0.1", port),
            null,
            new PrometheusExport(new RoostMetrics(), new RatisMetricsBridge(), false));
    endpoint.attachAdmin(
        new AdminEndpoint(AdminSecret.of(SECRET), null, null, new AuthThrottle(nanos::get)));
  }

  @AfterEach
  void stop() {
    endpoint.close();
  }

  private HttpResponse<String> post(String path, String secret, HttpRequest.BodyPublisher body)
      throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Authorization", "Bearer " + secret)
            .POST(body)
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static ErrorReply error(HttpResponse<String> r) throws Exception {
    assertThat(r.headers().firstValue("Content-Type")).contains(ControlJson.CONTENT_TYPE);
    return ControlJson.parse(r.body(), ErrorReply.getDefaultInstance());
  }

  @Test
  void afterFiveWrongSecretsEvenTheRightOneIsRefusedUntilTheWindowEnds() throws Exception {
    String wrong = "wrong-secret-of-some-length";
    for (int i = 0; i < AuthThrottle.MAX_FAILURES; i++) {
      assertThat(post("/admin/snapshot", wrong, BodyPublishers.noBody()).statusCode())
          .isEqualTo(403);
    }

    // Locked out: the secret is not even looked at.
    HttpResponse<String> locked = post("/admin/snapshot", SECRET, BodyPublishers.noBody());
    assertThat(locked.statusCode()).isEqualTo(429);
    assertThat(error(locked).getCode()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
    assertThat(locked.headers().firstValue("Retry-After"))
        .contains(String.valueOf(AuthThrottle.WINDOW.toSeconds()));

    nanos.addAndGet(AuthThrottle.WINDOW.toNanos() - 1);
    assertThat(post("/admin/snapshot", SECRET, BodyPublishers.noBody()).statusCode())
        .isEqualTo(429);

    // The window is over: the right secret gets through to the operation (here, a missing
    // parameter: no cluster is needed to refuse it).
    nanos.addAndGet(1);
    HttpResponse<String> through = post("/admin/add?id=n4", SECRET, BodyPublishers.noBody());
    assertThat(through.statusCode()).isEqualTo(400);
    assertThat(error(through).getMessage()).isEqualTo("missing parameter 'address'");
  }

  @Test
  void aBodyOverTheLimitIsRefusedWith413AndNothingRuns() throws Exception {
    byte[] big = new byte[AdminEndpoint.MAX_BODY_BYTES + 1];

    HttpResponse<String> r = post("/admin/snapshot", SECRET, BodyPublishers.ofByteArray(big));

    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(error(r).getCode()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(error(r).getMessage()).startsWith("request body over 65536 bytes");
  }

  @Test
  void aBodyWithoutALengthIsRefusedWith411AndNothingRuns() throws Exception {
    // An input stream of unknown length: the client sends it chunked.
    HttpResponse<String> r =
        post(
            "/admin/snapshot",
            SECRET,
            BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(new byte[10])));

    assertThat(r.statusCode()).isEqualTo(411);
    assertThat(error(r).getCode()).isEqualTo(StatusCode.INVALID_ARGUMENT);
  }

  @Test
  void aQueryThatIsNotUtf8IsAnInvalidArgument() throws Exception {
    for (String query : new String[] {"id=%FF&address=x", "id=%C3%28&address=x"}) {
      HttpResponse<String> r = post("/admin/add?" + query, SECRET, BodyPublishers.noBody());

      assertThat(r.statusCode()).as(query).isEqualTo(400);
      assertThat(error(r).getMessage()).isEqualTo("the query string is not URL-encoded UTF-8");
    }
  }

  @Test
  void aFailedOperationIsInternalWithoutItsMessage() throws Exception {
    // The snapshot reaches the missing ClusterAdmin: a NullPointerException naming our classes.
    HttpResponse<String> r = post("/admin/snapshot", SECRET, BodyPublishers.noBody());

    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(error(r).getCode()).isEqualTo(StatusCode.INTERNAL);
    assertThat(r.body())
        .doesNotContain("NullPointerException")
        .doesNotContain("ClusterAdmin")
        .doesNotContain("because");
  }

  @Test
  void aBodyThatIsNotJsonIsRefusedWithoutTheParsersMessage() throws Exception {
    HttpResponse<String> r = post("/admin/add", SECRET, BodyPublishers.ofString("{\"id\": \"n4"));

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(error(r).getMessage())
        .isEqualTo(
            "the body is not a AddMemberRequest in JSON (an object with the fields id, address,"
                + " clientAddress)");
  }
}

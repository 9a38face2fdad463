package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.api.ControlJson;
import dev.roost.proto.ErrorReply;
import dev.roost.proto.MemberProgress;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.Peer;
import dev.roost.proto.Role;
import dev.roost.proto.StatusCode;
import dev.roost.testkit.LoopbackPorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP endpoint before Ratis starts, its routes, its admin refusals, what {@code /status}
 * serves, and what half-sent or oversized requests cannot do (issue 17).
 */
class HttpEndpointTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final String SECRET = "0123456789abcdef-secret";

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
    // No Ratis server: every operation that reached the cluster would fail, and none may.
    endpoint.attachAdmin(
        new AdminEndpoint(AdminSecret.of(SECRET), null, null, new AuthThrottle(System::nanoTime)));
  }

  @AfterEach
  void stop() {
    endpoint.close();
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder at(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
  }

  private static ErrorReply error(HttpResponse<String> r) throws Exception {
    assertThat(r.headers().firstValue("Content-Type")).contains("application/json");
    return ControlJson.parse(r.body(), ErrorReply.getDefaultInstance());
  }

  @Test
  void beforeRatisStartsStatusIsUnavailableAndHealthPasses() throws Exception {
    HttpResponse<String> status = send(at("/status"));

    assertThat(status.statusCode()).isEqualTo(503);
    assertThat(error(status).getCode()).isEqualTo(StatusCode.UNAVAILABLE);
    assertThat(error(status).getMessage()).isEqualTo("starting");
    assertThat(send(at("/health")).body()).isEqualTo("ok\n");
    assertThat(send(at("/ready")).statusCode()).isEqualTo(503);
  }

  @Test
  void aStuckMemberFailsHealth() throws Exception {
    RaftReading stuck =
        new RaftReading("n3", true, true, "FOLLOWER", 4, "n1", false, 948, 948, 2034, List.of());
    long[] now = {0};
    StallWatch watch = new StallWatch(() -> Optional.of(stuck), () -> now[0]);
    watch.sample();
    now[0] += StallWatch.BOUND.toMillis();
    watch.sample();
    endpoint.attach(null, watch);

    HttpResponse<String> health = send(at("/health"));

    assertThat(health.statusCode()).isEqualTo(503);
    assertThat(health.body()).startsWith("stuck: applied index 948 has not moved for 120 s");
  }

  @Test
  void everyPathAnswersGetAndHeadOnly() throws Exception {
    HttpResponse<String> head = send(at("/health").method("HEAD", BodyPublishers.noBody()));
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();

    HttpResponse<String> post = send(at("/health").POST(BodyPublishers.ofString("x")));
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.body()).isEqualTo("use GET\n");

    assertThat(send(at("/health/more")).statusCode()).isEqualTo(404);
    assertThat(send(at("/nothing")).statusCode()).isEqualTo(404);
    HttpResponse<String> metrics = send(at("/metrics"));
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("text/plain"));
  }

  @Test
  void headersOverTheLimitAreRefusedWith431() throws Exception {
    HttpResponse<String> r =
        send(at("/health").header("X-Padding", "a".repeat(HttpEndpoint.MAX_HEADER_BYTES)));

    assertThat(r.statusCode()).isEqualTo(431);
    assertThat(r.body()).isEqualTo("431 Request Header Fields Too Large\n");
  }

  @Test
  void halfSentRequestsDoNotBlockHealth() throws Exception {
    // 64 clients each send part of a request (some only part of the request line, some the line
    // and a header but never the blank line that ends the headers) and then go quiet.
    List<Socket> stalled = new ArrayList<>();
    try {
      for (int i = 0; i < 64; i++) {
        Socket s = new Socket();
        // The old endpoint stopped accepting: its backlog filled and connect hung for minutes.
        s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
        String partial = i % 2 == 0 ? "GET /hea" : "GET /health HTTP/1.1\r\nHost: x\r\n";
        s.getOutputStream().write(partial.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        stalled.add(s);
      }

      // A liveness probe still gets its answer; 2 s is Kubernetes' probe timeout, not a speed
      // requirement (the old endpoint never answered while one request was half sent).
      HttpResponse<String> health = send(at("/health").timeout(Duration.ofSeconds(2)));

      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.body()).isEqualTo("ok\n");
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
    }
  }

  @Test
  void aStalledConnectionIsClosedByTheServer() throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.getOutputStream().write("GET /health HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
      // Far above the idle timeout: only a bound on how long the test waits for the close.
      s.setSoTimeout(30_000);

      // Whatever the server says before closing (a 408, or nothing), it ends the connection.
      byte[] answer = s.getInputStream().readAllBytes();

      assertThat(new String(answer, StandardCharsets.US_ASCII)).doesNotContain("200");
    } catch (IOException e) {
      throw new AssertionError("the server kept a stalled connection open", e);
    }
  }

  @Test
  void adminWithoutTheSecretIsPermissionDenied() throws Exception {
    HttpResponse<String> r =
        send(
            at("/admin/add")
                .header("Authorization", "Bearer wrong-secret-of-some-length")
                .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"n4\"}")));

    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(error(r).getCode()).isEqualTo(StatusCode.PERMISSION_DENIED);
    assertThat(error(r).hasLeader()).isFalse();
  }

  @Test
  void malformedOrIncompleteRequestsAreInvalidArguments() throws Exception {
    HttpResponse<String> notJson =
        send(
            at("/admin/remove")
                .header("Authorization", "Bearer " + SECRET)
                .POST(HttpRequest.BodyPublishers.ofString("id=n4")));
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(error(notJson).getMessage()).startsWith("the body is not a RemoveMemberRequest");

    HttpResponse<String> noAddress =
        send(
            at("/admin/add?id=n4")
                .header("Authorization", "Bearer " + SECRET)
                .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(noAddress.statusCode()).isEqualTo(400);
    assertThat(error(noAddress).getCode()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(error(noAddress).getMessage()).isEqualTo("missing parameter 'address'");

    HttpResponse<String> unknown =
        send(
            at("/admin/reboot")
                .header("Authorization", "Bearer " + SECRET)
                .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(error(unknown).getCode()).isEqualTo(StatusCode.NOT_FOUND);
  }

  @Test
  void statusCarriesEveryReadingOfTheMember() {
    RaftReading state =
        new RaftReading(
            "n2",
            true,
            true,
            "FOLLOWER",
            5,
            null,
            false,
            40,
            39,
            -1,
            List.of(Peer.newBuilder().setId("n1").setAddress("h:1").build()));
    MembershipReading view = new MembershipReading("h:2", "h:3", 120, 30, List.of());

    MemberStatus status = HttpEndpoint.status(state, view, 1_800_000_000_000L);

    assertThat(status)
        .isEqualTo(
            MemberStatus.newBuilder()
                .setId("n2")
                .setRole(Role.FOLLOWER)
                .setTerm(5)
                .setLeader("")
                .setCommitIndex(40)
                .setAppliedIndex(39)
                .setLeaderCommitIndex(-1)
                .addPeers(Peer.newBuilder().setId("n1").setAddress("h:1"))
                .setReady(false)
                .setAddress("h:2")
                .setClientAddress("h:3")
                .setLastContactMs(120)
                .setSnapshotIndex(30)
                .setTlsExpiresMs(1_800_000_000_000L)
                .build());
    assertThat(
            HttpEndpoint.status(
                    state,
                    new MembershipReading(
                        "h:2",
                        "h:3",
                        0,
                        -1,
                        List.of(MemberProgress.newBuilder().setId("n1").build())),
                    0)
                .getMembersCount())
        .isEqualTo(1);
  }
}

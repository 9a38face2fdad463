package dev.roost.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * AdminClient against a fake member's HTTP endpoint on loopback: a membership change whose first
 * attempt was answered UNAVAILABLE, and whose retry is refused because the change is in place.
 */
class AdminClientTest {
  private HttpServer server;
  private final Deque<String> adminAnswers = new ArrayDeque<>();
  private volatile String peers = "[{\"id\":\"n1\",\"address\":\"127.0.0.1:7001\"}]";

  @BeforeEach
  void startFakeLeader() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/status",
        x ->
            answer(
                x,
                200,
                "{\"id\":\"n1\",\"role\":\"LEADER\",\"term\":4,\"commitIndex\":90,\"peers\":"
                    + peers
                    + "}"));
    server.createContext(
        "/admin/",
        x -> {
          String next = adminAnswers.poll();
          answer(x, next.contains("\"OK\"") ? 200 : 503, next);
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private static void answer(HttpExchange x, int code, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    x.sendResponseHeaders(code, bytes.length);
    x.getResponseBody().write(bytes);
    x.close();
  }

  private AdminClient client() {
    return new AdminClient(
        List.of("127.0.0.1:" + server.getAddress().getPort()), "secret", Duration.ofSeconds(2));
  }

  private static String refusal(StatusCode code, String message) {
    return "{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}";
  }

  @Test
  void anAddAnsweredUnavailableThenFoundDoneOnRetryIsReportedAdded() {
    adminAnswers.add(refusal(StatusCode.UNAVAILABLE, "add n4 failed: LeaderSteppingDownException"));
    adminAnswers.add(refusal(StatusCode.ALREADY_EXISTS, "n4 is already a member"));
    peers =
        "[{\"id\":\"n1\",\"address\":\"127.0.0.1:7001\"},"
            + "{\"id\":\"n4\",\"address\":\"127.0.0.1:7004\"}]";

    JsonNode result = client().add("n4", "127.0.0.1:7004");

    assertThat(result.path("outcome").asText()).isEqualTo("added");
    assertThat(result.path("id").asText()).isEqualTo("n4");
    assertThat(result.path("term").asLong()).isEqualTo(4);
  }

  @Test
  void aRemoveAnsweredUnavailableThenFoundDoneOnRetryIsReportedRemoved() {
    adminAnswers.add(refusal(StatusCode.UNAVAILABLE, "remove n4 failed: NotReplicatedException"));
    adminAnswers.add(refusal(StatusCode.NOT_FOUND, "n4 is not a member"));

    assertThat(client().remove("n4").path("outcome").asText()).isEqualTo("removed");
  }

  @Test
  void aRefusalOnTheFirstAttemptOrForAnotherMemberStaysARefusal() {
    peers =
        "[{\"id\":\"n1\",\"address\":\"127.0.0.1:7001\"},"
            + "{\"id\":\"n4\",\"address\":\"127.0.0.1:7004\"}]";
    adminAnswers.add(refusal(StatusCode.ALREADY_EXISTS, "n4 is already a member"));
    assertThat(
            catchThrowableOfType(RoostException.class, () -> client().add("n4", "127.0.0.1:7004"))
                .code())
        .as("nothing was retried: the user asked for a member that exists")
        .isEqualTo(StatusCode.ALREADY_EXISTS);

    adminAnswers.add(refusal(StatusCode.UNAVAILABLE, "add n4 failed: LeaderSteppingDownException"));
    adminAnswers.add(refusal(StatusCode.ALREADY_EXISTS, "127.0.0.1:7004 is already n4's"));
    assertThat(
            catchThrowableOfType(RoostException.class, () -> client().add("n5", "127.0.0.1:7004"))
                .code())
        .as("retried, but the member in place is not the one asked for")
        .isEqualTo(StatusCode.ALREADY_EXISTS);
  }
}

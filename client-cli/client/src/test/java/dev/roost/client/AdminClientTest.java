package dev.roost.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.roost.api.ControlJson;
import dev.roost.api.HttpStatus;
import dev.roost.proto.AddMemberRequest;
import dev.roost.proto.AdminReply;
import dev.roost.proto.ErrorReply;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.Peer;
import dev.roost.proto.Role;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * AdminClient against a fake member's HTTP endpoint on loopback: a membership change whose first
 * attempt was answered UNAVAILABLE, and whose retry is refused because the change is in place.
 */
class AdminClientTest {
  private static final Peer N1 = peer("n1", "127.0.0.1:7001", "127.0.0.1:7201");
  private static final Peer N4 = peer("n4", "127.0.0.1:7004", "127.0.0.1:7204");

  private HttpServer server;
  private final Queue<ErrorReply> adminAnswers = new ConcurrentLinkedQueue<>();
  private final Queue<String> adminRequests = new ConcurrentLinkedQueue<>();
  private volatile List<Peer> peers = List.of(N1);

  private static Peer peer(String id, String address, String clientAddress) {
    return Peer.newBuilder().setId(id).setAddress(address).setClientAddress(clientAddress).build();
  }

  @BeforeEach
  void startFakeLeader() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/status",
        x ->
            answer(
                x,
                200,
                ControlJson.print(
                    MemberStatus.newBuilder()
                        .setId("n1")
                        .setRole(Role.LEADER)
                        .setTerm(4)
                        .setCommitIndex(90)
                        .addAllPeers(peers))));
    server.createContext(
        "/admin/",
        x -> {
          adminRequests.add(
              x.getRequestURI().getPath()
                  + " "
                  + new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          ErrorReply next = adminAnswers.poll();
          if (next == null) {
            answer(
                x,
                200,
                ControlJson.print(
                    AdminReply.newBuilder().setOutcome("added").setId("n4").setServer("n1")));
          } else {
            answer(x, HttpStatus.of(next.getCode()), ControlJson.print(next));
          }
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
        List.of("127.0.0.1:" + server.getAddress().getPort()),
        Tls.PLAINTEXT,
        "secret",
        Duration.ofSeconds(2));
  }

  private static ErrorReply refusal(StatusCode code, String message) {
    return ErrorReply.newBuilder().setCode(code).setMessage(message).build();
  }

  @Test
  void anAddGoesToTheLeaderAsATypedRequest() throws Exception {
    AdminReply reply = client().add("n4", "127.0.0.1:7004/7204");

    assertThat(reply.getOutcome()).isEqualTo("added");
    String sent = adminRequests.poll();
    assertThat(sent).startsWith("/admin/add ");
    assertThat(
            ControlJson.parse(
                sent.substring("/admin/add ".length()), AddMemberRequest.getDefaultInstance()))
        .isEqualTo(
            AddMemberRequest.newBuilder()
                .setId("n4")
                .setAddress("127.0.0.1:7004")
                .setClientAddress("127.0.0.1:7204")
                .build());
  }

  @Test
  void anAddWithoutAClientAddressIsRefusedBeforeAnythingIsSent() {
    RoostException e =
        catchThrowableOfType(RoostException.class, () -> client().add("n4", "127.0.0.1:7004"));

    assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(e.getMessage()).contains("n4=127.0.0.1:7004/CLIENT_PORT");
    assertThat(adminRequests).isEmpty();
  }

  @Test
  void anAddAnsweredUnavailableThenFoundDoneOnRetryIsReportedAdded() {
    adminAnswers.add(refusal(StatusCode.UNAVAILABLE, "add n4 failed: LeaderSteppingDownException"));
    adminAnswers.add(refusal(StatusCode.ALREADY_EXISTS, "n4 is already a member"));
    peers = List.of(N1, N4);

    AdminReply result = client().add("n4", "127.0.0.1:7004/7204");

    assertThat(result.getOutcome()).isEqualTo("added");
    assertThat(result.getId()).isEqualTo("n4");
    assertThat(result.getTerm()).isEqualTo(4);
    assertThat(result.getCommitIndex()).isEqualTo(90);
  }

  @Test
  void aRemoveAnsweredUnavailableThenFoundDoneOnRetryIsReportedRemoved() {
    adminAnswers.add(refusal(StatusCode.UNAVAILABLE, "remove n4 failed: NotReplicatedException"));
    adminAnswers.add(refusal(StatusCode.NOT_FOUND, "n4 is not a member"));

    assertThat(client().remove("n4").getOutcome()).isEqualTo("removed");
  }

  @Test
  void aRefusalOnTheFirstAttemptOrForAnotherMemberStaysARefusal() {
    peers = List.of(N1, N4);
    adminAnswers.add(refusal(StatusCode.ALREADY_EXISTS, "n4 is already a member"));
    assertThat(
            catchThrowableOfType(
                    RoostException.class, () -> client().add("n4", "127.0.0.1:7004/7204"))
                .code())
        .as("nothing was retried: the user asked for a member that exists")
        .isEqualTo(StatusCode.ALREADY_EXISTS);

    adminAnswers.add(refusal(StatusCode.UNAVAILABLE, "add n4 failed: LeaderSteppingDownException"));
    adminAnswers.add(refusal(StatusCode.ALREADY_EXISTS, "127.0.0.1:7004 is already n4's"));
    assertThat(
            catchThrowableOfType(
                    RoostException.class, () -> client().add("n5", "127.0.0.1:7004/7205"))
                .code())
        .as("retried, but the member in place is not the one asked for")
        .isEqualTo(StatusCode.ALREADY_EXISTS);
  }

  @Test
  void refusalsOtherThanUnavailableAreNotRetried() {
    adminAnswers.add(refusal(StatusCode.PERMISSION_DENIED, "admin operations need the secret"));

    RoostException e = catchThrowableOfType(RoostException.class, () -> client().transfer("n4"));

    assertThat(e.code()).isEqualTo(StatusCode.PERMISSION_DENIED);
    assertThat(e.getMessage()).isEqualTo("admin operations need the secret");
    assertThat(adminRequests).hasSize(1);
  }

  @Test
  void unavailableIsRetriedWithBackoffUntilTheLeaderTakesIt() {
    for (int i = 0; i < 3; i++) {
      adminAnswers.add(refusal(StatusCode.UNAVAILABLE, "n1 is not the leader; ask n2"));
    }

    assertThat(client().transfer("n4").getOutcome()).isEqualTo("added");
    assertThat(adminRequests).hasSize(4);
  }

  @Test
  void anAnswerWithoutAnErrorBodyIsReadByItsHttpStatus() {
    server.createContext(
        "/admin/snapshot", x -> answer(x, 404, "no such path (an older server)\n"));

    AdminClient.SnapshotResult result = client().snapshotAll().get("n1");

    assertThat(result.reply()).isEmpty();
    assertThat(result.error().orElseThrow().getCode()).isEqualTo(StatusCode.NOT_FOUND);
    assertThat(result.error().orElseThrow().getMessage())
        .isEqualTo("HTTP 404: no such path (an older server)");
  }
}

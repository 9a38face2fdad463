package dev.roost.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.roost.api.ControlJson;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.Role;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StatusProbeTest {
  private HttpServer server;
  private volatile int code = 200;
  private volatile String body;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/status",
        x -> {
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          x.sendResponseHeaders(code, bytes.length);
          x.getResponseBody().write(bytes);
          x.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private String address() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  @Test
  void readsTheMembersStatus() {
    body =
        ControlJson.print(
            MemberStatus.newBuilder().setId("n1").setRole(Role.LEADER).setTerm(7).setReady(true));

    MemberStatus status = StatusProbe.standard().fetch(address()).orElseThrow();

    assertThat(status.getRole()).isEqualTo(Role.LEADER);
    assertThat(status.getTerm()).isEqualTo(7);
    assertThat(status.getReady()).isTrue();
  }

  @Test
  void anythingButAStatusIsNoStatusNow() {
    code = 503;
    body = "{\"code\":\"UNAVAILABLE\",\"message\":\"starting\"}";
    assertThat(StatusProbe.standard().fetch(address())).isEmpty();

    code = 200;
    body = "starting\n";
    assertThat(StatusProbe.standard().fetch(address())).isEmpty();

    server.stop(0);
    assertThat(new StatusProbe(Duration.ofMillis(300)).fetch(address())).isEmpty();
  }
}

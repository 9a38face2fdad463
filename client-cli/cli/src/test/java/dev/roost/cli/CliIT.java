package dev.roost.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.roost.testkit.LoopbackPorts;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code roost} CLI against a real three-process cluster that the CLI itself starts with {@code
 * up}: JSON round trips, documented errors and exit codes for bad input (with nothing changed), and
 * a full restart that keeps the data. The CLI runs in this JVM; the servers are real {@code
 * roost-server} processes on loopback.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliIT {
  @TempDir static Path home;
  private static int basePort;

  static CliRun roost(String... args) {
    return CliRun.roost(home, args);
  }

  static CliRun ok(String... args) {
    return CliRun.ok(home, args);
  }

  @BeforeAll
  static void up() throws IOException {
    basePort = LoopbackPorts.cluster(3);
    CliRun r = ok("up", "--nodes", "3", "--base-port", Integer.toString(basePort));
    assertThat(r.out()).contains("LEADER");
  }

  @AfterAll
  static void down() {
    roost("down");
  }

  @Test
  @Order(1)
  void statusAsJsonShowsOneLeaderAndThreeReadyNodes() throws IOException {
    JsonNode nodes = ok("status", "-o", "json").json();
    assertThat(nodes).hasSize(3);
    int leaders = 0;
    for (JsonNode n : nodes) {
      assertThat(n.path("process").asText()).isEqualTo("running");
      assertThat(n.path("status").path("ready").asBoolean()).isTrue();
      leaders += n.path("status").path("role").asText().equals("LEADER") ? 1 : 0;
    }
    assertThat(leaders).isEqualTo(1);
    JsonNode members = ok("cluster", "status", "-o", "json").json();
    assertThat(members).hasSize(3);
    assertThat(members.findValuesAsText("role")).containsOnlyOnce("LEADER");
    // Secure by default: every member serves a certificate, and says when it expires.
    for (JsonNode m : members) {
      assertThat(m.path("tlsExpiresMs").asLong())
          .isGreaterThan(System.currentTimeMillis() + Duration.ofDays(300).toMillis());
    }
    assertThat(ok("cluster", "status").out()).contains("CERT EXPIRES");
  }

  @Test
  @Order(2)
  void socialRoundTripInJson() throws IOException {
    assertThat(
            ok("user", "add", "Alice", "--name", "Alice A.", "-o", "json")
                .json()
                .path("handle")
                .asText())
        .isEqualTo("alice");
    ok("user", "add", "bob");
    ok("user", "add", "carol");
    JsonNode follow = ok("follow", "alice", "bob", "-o", "json").json();
    assertThat(follow.path("changed").asBoolean()).isTrue();
    assertThat(ok("follow", "alice", "bob", "-o", "json").json().path("changed").asBoolean())
        .isFalse();
    ok("follow", "alice", "carol");

    long first = ok("post", "bob", "hello", "from", "bob", "-o", "json").json().path("id").asLong();
    long second = ok("post", "carol", "hi from carol", "-o", "json").json().path("id").asLong();
    ok("post", "alice", "me too");
    assertThat(second).isGreaterThan(first);

    JsonNode timeline = ok("timeline", "alice", "--limit", "2", "-o", "json").json();
    assertThat(timeline.path("posts").findValuesAsText("text"))
        .containsExactly("me too", "hi from carol");
    String cursor = timeline.path("nextPageToken").asText();
    assertThat(cursor).isNotEmpty();
    JsonNode older =
        ok("timeline", "alice", "--limit", "2", "--before", cursor, "-o", "json").json();
    assertThat(older.path("posts").findValuesAsText("text")).containsExactly("hello from bob");
    assertThat(older.path("nextPageToken").asText()).isEmpty();

    assertThat(
            ok("following", "alice", "-o", "json").json().path("users").findValuesAsText("handle"))
        .containsExactly("bob", "carol");
    assertThat(ok("followers", "bob", "-o", "json").json().path("users").findValuesAsText("handle"))
        .containsExactly("alice");
    assertThat(ok("users", "-o", "json").json().path("users").findValuesAsText("handle"))
        .containsExactly("alice", "bob", "carol");
    assertThat(ok("posts", "bob", "-o", "json").json().path("posts")).hasSize(1);

    // A fresh CLI process has seen nothing yet, so follower and stale reads may come from a
    // member that has not applied bob's post; they are eventually complete.
    for (String level : List.of("follower", "stale")) {
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () ->
                  assertThat(
                          ok("posts", "bob", "--consistency", level, "-o", "json")
                              .json()
                              .path("posts"))
                      .hasSize(1));
    }
    assertError(roost("posts", "bob", "--consistency", "eventual"), 2, "INVALID_ARGUMENT");

    ok("unfollow", "alice", "carol");
    assertThat(
            ok("timeline", "alice", "-o", "json").json().path("posts").findValuesAsText("author"))
        .containsExactly("alice", "bob");
    assertThat(ok("timeline", "alice").out()).contains("hello from bob").contains("AUTHOR");
  }

  @Test
  @Order(3)
  void keyValueRoundTripInJson() throws IOException {
    JsonNode put = ok("kv", "put", "config/a", "1", "-o", "json").json();
    assertThat(put.path("version").asLong()).isEqualTo(1);
    JsonNode cas = ok("kv", "cas", "config/a", "1", "2", "-o", "json").json();
    assertThat(cas.path("version").asLong()).isEqualTo(2);
    ok("kv", "cas", "config/b", "0", "first", "--by-version");
    JsonNode got = ok("kv", "get", "config/a", "-o", "json").json();
    assertThat(got.path("value").asText()).isEqualTo("2");
    assertThat(got.path("modRevision").asLong()).isGreaterThan(got.path("createRevision").asLong());
    assertThat(
            ok("kv", "list", "config/", "-o", "json")
                .json()
                .path("entries")
                .findValuesAsText("key"))
        .containsExactly("config/a", "config/b");
    assertThat(ok("kv", "del", "config/b", "-o", "json").json().path("deleted").asText())
        .isEqualTo("config/b");
    assertThat(ok("kv", "list", "config/", "-o", "json").json().path("entries")).hasSize(1);
  }

  @Test
  @Order(4)
  void badInputGetsTheDocumentedErrorAndExitCodeAndChangesNothing() throws IOException {
    String usersBefore = ok("users", "-o", "json").out();
    String kvBefore = ok("kv", "list", "-o", "json").out();

    assertError(roost("user", "add", "no spaces"), 2, "INVALID_ARGUMENT");
    assertError(roost("user", "add", "alice"), 2, "ALREADY_EXISTS");
    assertError(roost("follow", "alice", "ghost"), 2, "NOT_FOUND");
    assertError(roost("follow", "alice", "alice"), 2, "INVALID_ARGUMENT");
    assertError(roost("post", "alice", "x".repeat(281)), 2, "INVALID_ARGUMENT");
    assertError(roost("post", "ghost", "boo"), 2, "NOT_FOUND");
    assertError(roost("timeline", "alice", "--limit", "500"), 2, "INVALID_ARGUMENT");
    assertError(roost("timeline", "alice", "--before", "garbage!"), 2, "INVALID_ARGUMENT");
    assertError(roost("kv", "cas", "config/a", "wrong", "3"), 2, "FAILED_PRECONDITION");
    assertError(roost("kv", "get", "missing"), 2, "NOT_FOUND");
    assertError(roost("kv", "cas", "config/a", "one", "3", "--by-version"), 2, "INVALID_ARGUMENT");
    assertError(roost("no-such-command"), 2, "INVALID_ARGUMENT");
    assertError(roost("kill", "n9"), 2, "INVALID_ARGUMENT");

    assertThat(ok("users", "-o", "json").out()).isEqualTo(usersBefore);
    assertThat(ok("kv", "list", "-o", "json").out()).isEqualTo(kvBefore);
  }

  @Test
  @Order(5)
  void anUnreachableClusterIsExitThreeWithoutAStackTrace() {
    CliRun r = roost("--peers", "n1=127.0.0.1:1", "--timeout", "2", "users");
    assertError(r, 3, "UNAVAILABLE");
  }

  @Test
  @Order(6)
  void settingsChangeForEveryMemberThroughTheLog() throws IOException {
    assertThat(ok("cluster", "settings", "-o", "json").json().path("maxPostLength").asInt())
        .isEqualTo(280);
    assertError(roost("cluster", "settings", "--max-post-length=-5"), 2, "INVALID_ARGUMENT");

    JsonNode set = ok("cluster", "settings", "--max-post-length", "300", "-o", "json").json();

    assertThat(set.path("maxPostLength").asInt()).isEqualTo(300);
    assertThat(set.path("maxUsers").asLong()).as("the others kept").isEqualTo(100_000);
    ok("post", "alice", "x".repeat(300));
    assertError(roost("post", "alice", "x".repeat(301)), 2, "INVALID_ARGUMENT");
  }

  @Test
  @Order(7)
  void dataSurvivesAStopAndAKillOfTheWholeCluster() throws IOException {
    ok("post", "bob", "before the restart");
    ok("down");
    assertThat(ok("status", "-o", "json").json().findValuesAsText("process"))
        .containsOnly("stopped");
    ok("up");
    assertThat(ok("posts", "bob", "-o", "json").json().path("posts").findValuesAsText("text"))
        .contains("before the restart", "hello from bob");

    ok("post", "bob", "before the crash");
    for (String node : List.of("n1", "n2", "n3")) {
      ok("kill", node);
    }
    ok("up");
    assertThat(ok("posts", "bob", "-o", "json").json().path("posts").findValuesAsText("text"))
        .contains("before the crash", "before the restart", "hello from bob");
    assertThat(ok("kv", "get", "config/a", "-o", "json").json().path("value").asText())
        .isEqualTo("2");
    // The settings are in the replicated state, not in any member's flags.
    assertThat(ok("cluster", "settings", "-o", "json").json().path("maxPostLength").asInt())
        .isEqualTo(300);
  }

  private static void assertError(CliRun r, int exit, String code) {
    assertThat(r.exit()).as("stderr: %s", r.err()).isEqualTo(exit);
    assertThat(r.err()).startsWith("error: " + code + ": ");
    assertThat(r.err()).doesNotContain("\tat ");
    assertThat(r.out()).isEmpty();
  }
}

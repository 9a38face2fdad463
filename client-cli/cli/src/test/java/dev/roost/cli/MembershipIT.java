package dev.roost.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.roost.client.AdminClient;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.client.Tls;
import dev.roost.proto.MemberProgress;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.StatusCode;
import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LoopbackPorts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership changes on a live cluster of real server processes, under a steady write load from a
 * client that only ever knew the original three servers: refusals first (nothing changes), then
 * grow 3 -> 5, shrink 5 -> 3 removing the leader first, and replace a killed member, until none of
 * the original three is left. At the end every acknowledged write is there and the original client
 * still works.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MembershipIT {
  @TempDir static Path home;
  private static int basePort;
  private static String originalPeers;
  private static RoostClient writerClient;
  private static final Map<String, String> acked = new ConcurrentHashMap<>();
  private static final AtomicBoolean writing = new AtomicBoolean(true);
  private static CompletableFuture<Void> writer;
  private static final java.util.concurrent.atomic.AtomicInteger next =
      new java.util.concurrent.atomic.AtomicInteger();

  static CliRun roost(String... args) {
    return CliRun.roost(home, args);
  }

  static CliRun ok(String... args) {
    return CliRun.ok(home, args);
  }

  static LocalCluster cluster() throws IOException {
    return LocalCluster.load(home, LocalCluster.defaultServerJar()).orElseThrow();
  }

  /** The ids of the configuration's members, from the CLI's JSON status. */
  static Set<String> members() throws IOException {
    JsonNode status = ok("cluster", "status", "-o", "json").json();
    return StreamSupport.stream(status.spliterator(), false)
        .filter(m -> !m.path("role").asText().equals("NOT_MEMBER"))
        .map(m -> m.path("id").asText())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  static String leader() throws IOException {
    return cluster().leader().orElseThrow().id();
  }

  @BeforeAll
  static void upAndWrite() throws IOException {
    basePort = LoopbackPorts.cluster(9);
    ok("up", "--nodes", "3", "--base-port", Integer.toString(basePort));
    originalPeers = cluster().peers();
    writerClient =
        RoostClient.builder()
            .peers(originalPeers)
            .tls(Tls.of(cluster().caFile()))
            .deadline(Duration.ofSeconds(5))
            .build();
    startWriter();
  }

  /**
   * One write at a time, each with its own key; a write counts once the cluster acknowledged it.
   */
  private static void startWriter() {
    writing.set(true);
    writer =
        CompletableFuture.runAsync(
            () -> {
              while (writing.get()) {
                int i = next.getAndIncrement();
                String value = "v" + i;
                try {
                  writerClient.kvPut("k" + i, value.getBytes(StandardCharsets.UTF_8));
                  acked.put("k" + i, value);
                } catch (RoostException e) {
                  // unacknowledged: may or may not have applied; only acknowledged writes count
                }
                LocalCluster.sleep(Duration.ofMillis(20));
              }
            });
  }

  @AfterAll
  static void down() {
    writing.set(false);
    if (writerClient != null) {
      writerClient.close();
    }
    roost("down");
  }

  private static void awaitProgress() {
    int before = acked.size();
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= before + 10);
  }

  @Test
  @Order(1)
  void adminOperationsNeedTheSecret() throws IOException {
    CliRun wrong = roost("cluster", "snapshot", "--admin-secret", "not-the-secret-at-all");
    assertThat(wrong.exit()).isNotZero();
    assertThat(wrong.err()).startsWith("error: PERMISSION_DENIED");
    CliRun add =
        roost(
            "cluster",
            "add",
            "n9",
            "127.0.0.1:" + (basePort + 8) + "/" + (basePort + 208),
            "--admin-secret",
            "not-the-secret-at-all");
    assertThat(add.err()).startsWith("error: PERMISSION_DENIED");
    // Without any secret at all (a plain client), through the library.
    AdminClient anonymous =
        new AdminClient(
            cluster().httpEndpoints(), Tls.of(cluster().caFile()), null, Duration.ofSeconds(2));
    Assertions.assertThatThrownBy(() -> anonymous.transfer("n2"))
        .isInstanceOfSatisfying(
            RoostException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.PERMISSION_DENIED));
    // But everyone may look.
    assertThat(members()).containsExactly("n1", "n2", "n3");
  }

  @Test
  @Order(2)
  void addingAnExistingIdOrAddressIsRefused() throws IOException {
    CliRun id =
        roost("cluster", "add", "n2", "127.0.0.1:" + (basePort + 8) + "/" + (basePort + 208));
    assertThat(id.err()).startsWith("error: ALREADY_EXISTS");
    CliRun address =
        roost("cluster", "add", "n9", "127.0.0.1:" + (basePort + 1) + "/" + (basePort + 201));
    assertThat(address.err()).startsWith("error: ALREADY_EXISTS");
    assertThat(members()).containsExactly("n1", "n2", "n3");
  }

  @Test
  @Order(3)
  void anUnreachableAddressIsRefusedAndTheConfigurationStaysTheSame() throws IOException {
    // Nothing listens there.
    CliRun r =
        roost("cluster", "add", "n8", "127.0.0.1:" + (basePort + 7) + "/" + (basePort + 207));
    assertThat(r.err()).startsWith("error: DEADLINE_EXCEEDED").contains("unchanged");
    assertThat(members()).containsExactly("n1", "n2", "n3");
  }

  @Test
  @Order(5)
  void growFromThreeToFiveUnderLoad() throws IOException {
    ok("add-node");
    awaitProgress();
    ok("add-node");
    assertThat(members()).containsExactly("n1", "n2", "n3", "n4", "n5");
    awaitProgress();
  }

  @Test
  @Order(6)
  void shrinkFromFiveToThreeRemovingTheLeaderFirst() throws IOException {
    String leader = leader();
    ok("remove-node", leader);
    assertThat(members()).hasSize(4).doesNotContain(leader);
    await().atMost(Duration.ofSeconds(20)).until(() -> cluster().leader().isPresent());
    awaitProgress();
    String anotherOriginal =
        cluster().nodes().stream()
            .map(LocalCluster.Node::id)
            .filter(id -> Set.of("n1", "n2", "n3").contains(id))
            .findFirst()
            .orElseThrow();
    ok("remove-node", anotherOriginal);
    assertThat(members()).hasSize(3);
    awaitProgress();
  }

  @Test
  @Order(7)
  void replaceAKilledMemberAndRefuseARemovalThatWouldLoseTheMajority() throws IOException {
    String lastOriginal =
        cluster().nodes().stream()
            .map(LocalCluster.Node::id)
            .filter(id -> Set.of("n1", "n2", "n3").contains(id))
            .findFirst()
            .orElseThrow();
    ok("kill", lastOriginal);
    awaitProgress();
    // The rule counts members the leader has not heard from for a while as down; wait for that.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              LocalCluster c = cluster();
              return c.leader()
                  .flatMap(c::status)
                  .map(s -> lastContact(s, lastOriginal) > 3_000)
                  .orElse(false);
            });
    // Two of three alive: removing a live one would leave one, fewer than a majority of three.
    String leader = leaderOrEmpty();
    String live =
        cluster().nodes().stream()
            .map(LocalCluster.Node::id)
            .filter(id -> !id.equals(lastOriginal) && !id.equals(leader))
            .findFirst()
            .orElseThrow();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> roost("cluster", "remove", live).err().contains("fewer than a majority"));
    assertThat(members()).hasSize(3).contains(lastOriginal, live);

    ok("add-node");
    ok("remove-node", lastOriginal);
    assertThat(members()).hasSize(3).doesNotContainAnyElementsOf(Set.of("n1", "n2", "n3"));
    awaitProgress();
  }

  private static long lastContact(MemberStatus leaderStatus, String id) {
    return leaderStatus.getMembersList().stream()
        .filter(m -> m.getId().equals(id))
        .mapToLong(MemberProgress::getLastContactMs)
        .findFirst()
        .orElse(-1);
  }

  private static String leaderOrEmpty() throws IOException {
    return cluster().leader().map(LocalCluster.Node::id).orElse("");
  }

  @Test
  @Order(8)
  void everyAcknowledgedWriteSurvivedAndTheOriginalClientStillWorks() throws Exception {
    writing.set(false);
    writer.get();
    assertThat(acked).hasSizeGreaterThan(50);
    // The client that only knew n1..n3, all gone now, still writes and reads.
    writerClient.kvPut("after", "yes".getBytes(StandardCharsets.UTF_8));
    assertThat(writerClient.kvGet("after").getValue().toStringUtf8()).isEqualTo("yes");
    try (RoostClient fresh =
        RoostClient.builder().peers(cluster().peers()).tls(Tls.of(cluster().caFile())).build()) {
      for (Map.Entry<String, String> e : acked.entrySet()) {
        assertThat(fresh.kvGet(e.getKey()).getValue().toStringUtf8())
            .as(e.getKey())
            .isEqualTo(e.getValue());
      }
    }
  }
}

package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.Peers;
import dev.roost.proto.Command;
import dev.roost.proto.CreatePost;
import dev.roost.proto.OpenSession;
import dev.roost.proto.RegisterUser;
import dev.roost.proto.Reply;
import dev.roost.proto.RequestId;
import dev.roost.proto.StatusCode;
import dev.roost.testkit.LoopbackPorts;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} of three real roost-server processes: Roost's, Ratis' and the JVM's families are
 * there in Prometheus form, and the command counters and gauges follow writes on every member.
 */
class MetricsIT {
  private static final Duration STARTUP = Duration.ofSeconds(60);

  @TempDir Path dir;

  private final List<ServerProcess> nodes = new ArrayList<>();
  private RaftClient client;
  private long session;

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    for (ServerProcess p : nodes) {
      p.close();
    }
  }

  /** The value of the sample {@code series} (name and labels as printed), or 0 when absent. */
  private static double sample(String metrics, String series) {
    Matcher m =
        Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE)
            .matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  private static double sum(List<String> metrics, String series) {
    return metrics.stream().mapToDouble(m -> sample(m, series)).sum();
  }

  /** The member whose metrics say it leads, with its appender metrics registered, if any. */
  private Optional<ServerProcess> currentLeader() throws Exception {
    for (ServerProcess node : nodes) {
      String m = metrics(node);
      if (m.contains("roost_raft_is_leader 1.0")
          && m.contains("ratis_log_appender_follower_match_index")) {
        return Optional.of(node);
      }
    }
    return Optional.empty();
  }

  private static String metrics(ServerProcess node) throws Exception {
    HttpResponse<String> response = node.get("/metrics");
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  /** The session this test's writes go in, opened at the first. */
  private long session() throws Exception {
    if (session == 0) {
      RaftClientReply opened =
          client
              .io()
              .send(
                  Message.valueOf(
                      ByteString.copyFrom(
                          Command.newBuilder()
                              .setOpenSession(OpenSession.getDefaultInstance())
                              .build()
                              .toByteArray())));
      session =
          Reply.parseFrom(opened.getMessage().getContent().toByteArray()).getSession().getId();
    }
    return session;
  }

  private RaftClientReply sendRaw(Command.Builder command, long sequence) throws Exception {
    Command c =
        command
            .setRequestId(
                RequestId.newBuilder()
                    .setSession(session())
                    .setSequence(sequence)
                    .setFirstUnanswered(1)
                    .build())
            .build();
    return client.io().send(Message.valueOf(ByteString.copyFrom(c.toByteArray())));
  }

  private Reply send(Command.Builder command, long sequence) throws Exception {
    RaftClientReply reply = sendRaw(command, sequence);
    assertThat(reply.isSuccess()).isTrue();
    try {
      return Reply.parseFrom(reply.getMessage().getContent().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void metricsFollowWritesOnEveryMember() throws Exception {
    int[] raftPorts = IntStream.range(0, 3).map(i -> LoopbackPorts.one()).toArray();
    String peers =
        IntStream.range(0, 3)
            .mapToObj(i -> "n" + (i + 1) + "=127.0.0.1:" + raftPorts[i] + "/" + LoopbackPorts.one())
            .collect(Collectors.joining(","));
    for (int i = 0; i < 3; i++) {
      String id = "n" + (i + 1);
      nodes.add(ServerProcess.start(id, peers, dir.resolve(id), LoopbackPorts.one()));
    }
    await()
        .atMost(STARTUP)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> nodes.stream().allMatch(ServerProcess::isReady));
    // The member that leads now, by its own gauge (leadership may move on a loaded machine).
    ServerProcess leader =
        await()
            .atMost(STARTUP)
            .pollInterval(Duration.ofMillis(200))
            .until(this::currentLeader, Optional::isPresent)
            .get();
    String before = metrics(leader);
    long termBefore = (long) sample(before, "roost_raft_term");

    // Served in the Prometheus text format, with Roost's, Ratis' (bridged) and the JVM's families.
    assertThat(leader.get("/metrics").headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain; version=0.0.4"));
    assertThat(before)
        .contains("# TYPE roost_commands_total counter")
        .contains("# TYPE ratis_leader_election_election_total counter")
        .contains("# TYPE ratis_log_worker_flush_time_seconds summary")
        .contains("ratis_log_appender_follower_match_index{follower=\"")
        .contains("ratis_server_peer_commit_index{peer=\"")
        .contains("# TYPE jvm_memory_used_bytes gauge");

    client =
        RaftClient.newBuilder()
            .setRaftGroup(Peers.group(Peers.parse(peers)))
            .setProperties(new RaftProperties())
            .setRetryPolicy(
                RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                    50, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
            .build();
    assertThat(
            send(
                    Command.newBuilder()
                        .setRegisterUser(RegisterUser.newBuilder().setHandle("metered")),
                    1)
                .getCode())
        .isEqualTo(StatusCode.OK);
    for (int i = 0; i < 3; i++) {
      send(
          Command.newBuilder()
              .setCreatePost(CreatePost.newBuilder().setAuthor("metered").setText("post " + i)),
          2 + i);
    }
    assertThat(
            send(
                    Command.newBuilder()
                        .setRegisterUser(RegisterUser.newBuilder().setHandle("metered")),
                    5)
                .getCode())
        .isEqualTo(StatusCode.ALREADY_EXISTS);

    // Refused by the leader before the log: the handle is too short.
    assertThat(
            catchThrowable(
                () ->
                    sendRaw(
                        Command.newBuilder()
                            .setRegisterUser(RegisterUser.newBuilder().setHandle("x")),
                        6)))
        .isInstanceOf(StateMachineException.class);

    String posts = "roost_commands_total{code=\"OK\",op=\"create_post\"}";
    double postsBefore = sample(before, posts);
    // Every member applies every command: the counters and the state gauges move everywhere.
    for (ServerProcess node : nodes) {
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .untilAsserted(
              () -> {
                String now = metrics(node);
                assertThat(sample(now, posts)).isEqualTo(postsBefore + 3);
                assertThat(sample(now, "roost_state_posts")).isEqualTo(3);
                assertThat(sample(now, "roost_state_users")).isEqualTo(1);
              });
    }
    // The leader accepted the commands: it timed them and answered the client's errors; the
    // followers applied them without either. Exact only if leadership stayed put: a command whose
    // leader changed between accept and apply is timed by nobody.
    List<String> all = new ArrayList<>();
    for (ServerProcess node : nodes) {
      all.add(metrics(node));
    }
    double timed = sum(all, "roost_command_latency_seconds_count{op=\"create_post\"}");
    double alreadyExists = sum(all, "roost_errors_total{code=\"ALREADY_EXISTS\"}");
    double refused = sum(all, "roost_errors_total{code=\"INVALID_ARGUMENT\"}");
    if (all.stream().allMatch(m -> sample(m, "roost_raft_term") == termBefore)) {
      assertThat(timed).isEqualTo(3);
      assertThat(alreadyExists).isEqualTo(1);
      assertThat(refused).isEqualTo(1);
      assertThat(sample(metrics(leader), "roost_command_latency_seconds_count{op=\"create_post\"}"))
          .isEqualTo(3);
    } else {
      assertThat(timed).isBetween(1.0, 3.0);
      assertThat(alreadyExists).isLessThanOrEqualTo(1);
      assertThat(refused).isEqualTo(1);
    }

    // Every metric the Grafana dashboard queries exists (on the leader, or on a follower).
    String served = String.join("", all);
    Set<String> families = new TreeSet<>();
    Matcher type = Pattern.compile("^# TYPE (\\S+) ", Pattern.MULTILINE).matcher(served);
    while (type.find()) {
      families.add(type.group(1));
    }
    String dashboard =
        Files.readString(
            Path.of(System.getProperty("roost.deploy.dir", "../deploy"), "grafana", "roost.json"));
    Set<String> queried = new TreeSet<>();
    Matcher name = Pattern.compile("\\b((?:roost|ratis|jvm)_[a-z_]+)").matcher(dashboard);
    while (name.find()) {
      queried.add(name.group(1));
    }
    assertThat(queried).isNotEmpty();
    assertThat(families).containsAll(queried);
  }
}

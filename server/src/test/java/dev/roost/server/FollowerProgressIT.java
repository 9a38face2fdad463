package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roost.api.Peers;
import dev.roost.testkit.LoopbackPorts;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link ReplicationWatch} reads from a live Ratis leader: {@link FollowerProgress} pairs
 * Ratis' answer times and match indices, which Ratis gives without ids, with the right followers.
 * Three in-process servers with Ratis' echoing state machine (the reading concerns replication
 * only); one follower stops, the leader keeps writing, and only that follower's match index stays
 * behind while its silence grows.
 */
class FollowerProgressIT {
  @TempDir Path dir;
  private final List<RaftServer> servers = new ArrayList<>();
  private RaftClient client;

  @AfterEach
  void close() throws IOException {
    if (client != null) {
      client.close();
    }
    for (RaftServer s : servers) {
      s.close();
    }
  }

  @Test
  void theLeaderReadsEachFollowersMatchIndexAndSilenceUnderItsId() throws Exception {
    int base = LoopbackPorts.cluster(3);
    List<RaftPeer> peers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      peers.add(
          Peers.peer(
              "n" + (i + 1),
              "127.0.0.1:" + (base + i) + "/" + (base + LoopbackPorts.CLIENT_OFFSET + i)));
    }
    RaftGroup group = Peers.group(peers);
    for (int i = 0; i < 3; i++) {
      RaftProperties properties =
          new RaftTuning(
                  dir.resolve("n" + (i + 1)),
                  new RaftTuning.Bind("127.0.0.1", base + i),
                  new RaftTuning.Bind("127.0.0.1", base + LoopbackPorts.CLIENT_OFFSET + i),
                  RaftTuning.DEFAULT_ELECTION_TIMEOUT_MIN,
                  RaftTuning.DEFAULT_ELECTION_TIMEOUT_MAX,
                  RaftTuning.DEFAULT_SNAPSHOT_THRESHOLD)
              .toProperties();
      RaftServer server =
          RaftServer.newBuilder()
              .setServerId(peers.get(i).getId())
              .setGroup(group)
              .setStateMachine(new BaseStateMachine())
              .setProperties(properties)
              .setOption(RaftStorage.StartupOption.RECOVER)
              .build();
      server.start();
      servers.add(server);
    }
    client =
        RaftClient.newBuilder()
            .setRaftGroup(group)
            .setProperties(new RaftProperties())
            // Ratis' default retries forever; a write that cannot commit must fail the test.
            .setRetryPolicy(
                RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                    100, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
            .build();
    write(0, 20);
    RaftServer leader =
        await()
            .atMost(Duration.ofSeconds(20))
            .until(this::leader, Optional::isPresent)
            .orElseThrow();

    // Both followers hold the whole log and answer.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              ReplicationWatch.Reading r = ReplicationWatch.Reading.of(leader).orElseThrow();
              assertThat(r.followers()).hasSize(2);
              assertThat(r.followers().values())
                  .allSatisfy(
                      f -> {
                        assertThat(f.matchIndex()).isEqualTo(r.lastIndex());
                        assertThat(f.lastAnswerMs()).isLessThan(1_000);
                      });
            });

    // One follower stops; the leader writes on with the other.
    RaftServer stopped = servers.stream().filter(s -> s != leader).findFirst().orElseThrow();
    String stoppedId = stopped.getId().toString();
    long before = ReplicationWatch.Reading.of(leader).orElseThrow().lastIndex();
    stopped.close();
    write(20, 20);

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              ReplicationWatch.Reading r = ReplicationWatch.Reading.of(leader).orElseThrow();
              assertThat(r.lastIndex()).isGreaterThan(before);
              for (FollowerProgress f : r.followers().values()) {
                if (f.id().equals(stoppedId)) {
                  assertThat(f.matchIndex()).isLessThanOrEqualTo(before);
                  assertThat(f.lastAnswerMs()).isGreaterThan(2_000);
                } else {
                  assertThat(f.matchIndex()).isEqualTo(r.lastIndex());
                  assertThat(f.lastAnswerMs()).isLessThan(1_000);
                }
              }
            });
  }

  private Optional<RaftServer> leader() {
    return servers.stream().filter(s -> ReplicationWatch.Reading.of(s).isPresent()).findFirst();
  }

  private void write(int from, int count) throws IOException {
    for (int i = from; i < from + count; i++) {
      assertThat(client.io().send(Message.valueOf("entry " + i)).isSuccess()).isTrue();
    }
  }
}

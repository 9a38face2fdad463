package dev.roost.chaos.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.api.Peers;
import dev.roost.client.AdminClient;
import dev.roost.proto.Command;
import dev.roost.proto.CreatePost;
import dev.roost.proto.ListPosts;
import dev.roost.proto.OpenSession;
import dev.roost.proto.Page;
import dev.roost.proto.Query;
import dev.roost.proto.RegisterUser;
import dev.roost.proto.Reply;
import dev.roost.proto.RequestId;
import dev.roost.proto.Settings;
import dev.roost.proto.StatusCode;
import dev.roost.testkit.LocalCluster.Node;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once beyond Ratis' retry cache, on real server processes. The retry cache knows a request
 * by its Raft client id and call id, lives in memory for 60 s and is gone after a restart; a client
 * that crashed and came back, or a retry sent by a new Raft client, is not in it. Roost's sessions
 * are: a write re-sent under the same session and sequence is answered with the first reply and
 * applied once, however it arrives, also after a snapshot and a restart of every member. A write in
 * a session the cluster does not hold (never opened, or expired) is refused and applies nothing.
 */
class SessionRetryIT {
  @TempDir Path home;

  @Test
  void aRetryPastTheRetryCacheIsAnsweredFromTheSessionAndAppliedOnce() throws Exception {
    try (TestCluster cluster = TestCluster.start(home)) {
      cluster.awaitLeader();
      byte[] post;
      Reply first;
      long session;
      try (RaftClient original = raftClient(cluster)) {
        session = send(original, open()).getSession().getId();
        assertThat(session).isPositive();
        send(original, write(session, 1, register()));
        post = write(session, 2, post()).toByteArray();
        first = send(original, post);
        assertThat(first.getCode()).isEqualTo(StatusCode.OK);
      }

      // The client crashed after sending; its replacement re-sends the same bytes through a new
      // Raft client, which the retry cache has never seen.
      try (RaftClient replacement = raftClient(cluster)) {
        assertThat(send(replacement, post).getPost()).isEqualTo(first.getPost());
      }
      assertThat(postsOfAlice(cluster)).isEqualTo(1);

      // A snapshot on every member, then the whole cluster restarts: the sessions come back from
      // the snapshot, and the same retry is still answered from memory.
      AdminClient admin =
          new AdminClient(
              cluster.local().httpEndpoints(),
              cluster.tls(),
              cluster.local().adminSecret(),
              Duration.ofSeconds(10));
      assertThat(admin.snapshotAll().values()).allMatch(r -> r.reply().isPresent());
      for (Node n : cluster.local().nodes()) {
        cluster.kill(n);
      }
      for (Node n : cluster.local().nodes()) {
        cluster.restart(n);
      }
      cluster.awaitAllReady();
      try (RaftClient afterRestart = raftClient(cluster)) {
        assertThat(send(afterRestart, post).getPost()).isEqualTo(first.getPost());

        // A session the cluster never opened applies nothing, and says so.
        Reply unknown = send(afterRestart, write(session + 1, 1, post()).toByteArray());
        assertThat(unknown.getCode()).isEqualTo(StatusCode.SESSION_EXPIRED);

        // With a one-second session timeout, the same retry two seconds later finds the session
        // expired (by the time the leader stamps into the retry's own entry): refused, not
        // applied again.
        admin.settings(Settings.newBuilder().setSessionTimeoutMs(1_000).build());
        Thread.sleep(2_000);
        Reply late = send(afterRestart, post);
        assertThat(late.getCode()).isEqualTo(StatusCode.SESSION_EXPIRED);
      }
      assertThat(postsOfAlice(cluster)).isEqualTo(1);
      cluster.awaitSameState();
    }
  }

  private static Command open() {
    return Command.newBuilder().setOpenSession(OpenSession.getDefaultInstance()).build();
  }

  private static Command.Builder register() {
    return Command.newBuilder().setRegisterUser(RegisterUser.newBuilder().setHandle("alice"));
  }

  private static Command.Builder post() {
    return Command.newBuilder()
        .setCreatePost(CreatePost.newBuilder().setAuthor("alice").setText("exactly once"));
  }

  private static Command write(long session, long sequence, Command.Builder command) {
    return command
        .setRequestId(
            RequestId.newBuilder()
                .setSession(session)
                .setSequence(sequence)
                .setFirstUnanswered(sequence))
        .build();
  }

  private static long postsOfAlice(TestCluster cluster) throws IOException {
    try (RaftClient reader = raftClient(cluster)) {
      Query q =
          Query.newBuilder()
              .setListPosts(
                  ListPosts.newBuilder().setAuthor("alice").setPage(Page.newBuilder().setLimit(10)))
              .build();
      RaftClientReply reply =
          reader.io().sendReadOnly(Message.valueOf(ByteString.copyFrom(q.toByteArray())));
      return Reply.parseFrom(reply.getMessage().getContent().toByteArray())
          .getPostPage()
          .getPostsCount();
    }
  }

  private static Reply send(RaftClient client, Command command) throws IOException {
    return send(client, command.toByteArray());
  }

  private static Reply send(RaftClient client, byte[] command) throws IOException {
    RaftClientReply reply = client.io().send(Message.valueOf(ByteString.copyFrom(command)));
    if (!reply.isSuccess()) {
      throw reply.getException();
    }
    return Reply.parseFrom(reply.getMessage().getContent().toByteArray());
  }

  private static RaftClient raftClient(TestCluster cluster) {
    RaftProperties properties = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        properties, TimeDuration.valueOf(10, TimeUnit.SECONDS));
    return RaftClient.newBuilder()
        .setRaftGroup(Peers.group(Peers.parse(cluster.peers())))
        .setProperties(properties)
        .setParameters(cluster.tls().raftParameters())
        .setRetryPolicy(
            RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                100, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
        .build();
  }
}

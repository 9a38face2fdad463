package dev.roost.chaos.failover;

import dev.roost.api.Peers;
import dev.roost.client.Tls;
import dev.roost.proto.Command;
import dev.roost.proto.CreatePost;
import dev.roost.proto.KvGet;
import dev.roost.proto.OpenSession;
import dev.roost.proto.Query;
import dev.roost.proto.Reply;
import dev.roost.proto.RequestId;
import dev.roost.testkit.LocalCluster.Node;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * A deliberately naive client for one server: a raw Ratis client that sends each request to that
 * server only, once, with no retry and no redirect. Where {@link dev.roost.client.RoostClient}
 * would move on to the real leader, this one shows what that one server answers, e.g. an old leader
 * woken from a pause. A reply it returns therefore came from {@code server}.
 */
final class PinnedClient implements AutoCloseable {
  private final RaftClient raft;
  private final RaftPeerId server;
  private long session;
  private long sequence;

  /**
   * @param peers the whole group, {@code id=host:port,...}
   * @param tls how to reach it
   * @param server the one server to talk to
   * @param timeout how long one request may wait for its answer (a paused server answers late)
   */
  PinnedClient(String peers, Tls tls, Node server, Duration timeout) {
    RaftProperties properties = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        properties, TimeDuration.valueOf(timeout.toMillis(), TimeUnit.MILLISECONDS));
    this.server = RaftPeerId.valueOf(server.id());
    this.raft =
        RaftClient.newBuilder()
            .setRaftGroup(Peers.group(Peers.parse(peers)))
            .setLeaderId(this.server)
            .setProperties(properties)
            .setParameters(tls.raftParameters())
            .setRetryPolicy(RetryPolicies.noRetry())
            .build();
  }

  /**
   * Posts {@code text} as {@code author} through {@code server} as if it were the leader.
   *
   * @return the reply, which {@code server} sent
   * @throws IOException if {@code server} did not accept and commit the write (not the leader, no
   *     answer in time, ...)
   */
  synchronized Reply post(String author, String text) throws IOException {
    if (session == 0) {
      Command open = Command.newBuilder().setOpenSession(OpenSession.getDefaultInstance()).build();
      session = decode(raft.io().send(message(open.toByteArray()))).getSession().getId();
    }
    ++sequence;
    Command command =
        Command.newBuilder()
            .setRequestId(
                RequestId.newBuilder()
                    .setSession(session)
                    .setSequence(sequence)
                    .setFirstUnanswered(sequence))
            .setCreatePost(CreatePost.newBuilder().setAuthor(author).setText(text))
            .build();
    RaftClientReply reply = raft.io().send(message(command.toByteArray()));
    return decode(reply);
  }

  /**
   * A linearizable read of {@code key}, served by {@code server} (as leader, or as a follower
   * through a read index from the leader).
   *
   * @throws IOException if {@code server} could not serve it
   */
  Reply kvGet(String key) throws IOException {
    Query query = Query.newBuilder().setKvGet(KvGet.newBuilder().setKey(key)).build();
    return decode(raft.io().sendReadOnly(message(query.toByteArray()), server));
  }

  private Reply decode(RaftClientReply reply) throws IOException {
    if (!reply.isSuccess()) {
      throw reply.getException() != null
          ? reply.getException()
          : new IOException("not successful: " + reply);
    }
    if (!server.equals(reply.getServerId())) {
      throw new IllegalStateException("a pinned request was answered by " + reply.getServerId());
    }
    return Reply.parseFrom(reply.getMessage().getContent().toByteArray());
  }

  private static Message message(byte[] bytes) {
    return Message.valueOf(ByteString.copyFrom(bytes));
  }

  @Override
  public void close() throws IOException {
    raft.close();
  }
}

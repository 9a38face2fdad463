package dev.roost.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.Peers;
import dev.roost.client.Tls;
import dev.roost.proto.Command;
import dev.roost.proto.KvGet;
import dev.roost.proto.KvPut;
import dev.roost.proto.OpenSession;
import dev.roost.proto.Query;
import dev.roost.proto.Reply;
import dev.roost.proto.RequestId;
import dev.roost.proto.StatusCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.TimeDuration;

/**
 * Roost's servers through Ratis' own blocking client, without {@code RoostClient}: every put is one
 * Ratis request and one log entry, every get one read-index read. No batching, no Roost retry
 * policy. The baseline that shows what a Ratis request costs on its own, so that a gap between
 * {@code roost} and {@code ratis} runs is the client library's doing and the rest is the servers'.
 */
final class RatisConnection implements KvConnection {
  private final RaftClient raft;
  private final ClientId clientId = ClientId.randomId();

  /**
   * Sequence numbers of this connection's writes, in one session. The callers sharing it have at
   * most one write each in flight, fewer than the replies a session keeps (128), so none is refused
   * as too old.
   */
  private final AtomicLong sequence = new AtomicLong();

  private final long session;

  /**
   * @param peers {@code id=host:port/port,...}, the peer and client addresses (Ratis' client uses
   *     the client ones)
   * @param tls how to reach them
   * @throws IOException if no session could be opened
   */
  RatisConnection(String peers, Tls tls, Duration timeout) throws IOException {
    RaftProperties properties = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        properties, TimeDuration.valueOf(timeout.toMillis(), TimeUnit.MILLISECONDS));
    this.raft =
        RaftClient.newBuilder()
            .setClientId(clientId)
            .setRaftGroup(Peers.group(Peers.parse(peers)))
            .setProperties(properties)
            .setParameters(tls.raftParameters())
            .setRetryPolicy(
                RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                    10, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
            .build();
    Command open = Command.newBuilder().setOpenSession(OpenSession.getDefaultInstance()).build();
    this.session = check(raft.io().send(message(open.toByteArray()))).getSession().getId();
  }

  @Override
  public void create(int k, byte[] value) throws IOException {
    put(k, value);
  }

  @Override
  public void put(int k, byte[] value) throws IOException {
    Command put =
        Command.newBuilder()
            .setRequestId(
                RequestId.newBuilder()
                    .setSession(session)
                    .setSequence(sequence.incrementAndGet())
                    .setFirstUnanswered(1))
            .setKvPut(
                KvPut.newBuilder()
                    .setKey(RoostConnection.key(k))
                    .setValue(ByteString.copyFrom(value)))
            .build();
    check(raft.io().send(message(put.toByteArray())));
  }

  @Override
  public void get(int k) throws IOException {
    Query get =
        Query.newBuilder().setKvGet(KvGet.newBuilder().setKey(RoostConnection.key(k))).build();
    check(raft.io().sendReadOnly(message(get.toByteArray())));
  }

  private static Message message(byte[] bytes) {
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes));
  }

  /**
   * The state machine's reply; throws unless Ratis delivered it and Roost's state machine answered
   * OK.
   */
  private static Reply check(RaftClientReply reply) throws IOException {
    if (!reply.isSuccess()) {
      throw reply.getException() != null
          ? reply.getException()
          : new IOException("Ratis reply without success: " + reply);
    }
    Reply roost;
    try {
      roost = Reply.parseFrom(reply.getMessage().getContent().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("not a Roost reply", e);
    }
    if (roost.getCode() != StatusCode.OK) {
      throw new IOException(roost.getCode() + ": " + roost.getMessage());
    }
    return roost;
  }

  @Override
  public void close() {
    try {
      raft.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

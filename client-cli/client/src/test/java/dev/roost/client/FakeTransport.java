package dev.roost.client;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.proto.Command;
import dev.roost.proto.GatewayReply;
import dev.roost.proto.Reply;
import dev.roost.proto.Session;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicy;

/**
 * A {@link Transport} without servers: each call runs the test's {@link Server} (or, for a write's
 * gateway attempt, its {@link Gateway}) on the calling thread, which may answer, throw, or fail
 * attempts through the retry policy as Ratis' blocking loop does.
 */
final class FakeTransport implements Transport {
  /** What the servers do with one call. */
  @FunctionalInterface
  interface Server {
    Answer handle(boolean write, Message message) throws IOException;
  }

  /** What the leader's write gateway does with one attempt. */
  @FunctionalInterface
  interface Gateway {
    GatewayReply submit(Message command) throws IOException;
  }

  final RetryPolicy policy;
  final List<byte[]> writes = new CopyOnWriteArrayList<>();
  final List<byte[]> reads = new CopyOnWriteArrayList<>();
  volatile Server server = (write, m) -> reply("n1", Reply.getDefaultInstance());
  volatile RaftPeerId leader = RaftPeerId.valueOf("n1");

  /** The write gateway; null: none, writes go as Ratis requests only. */
  volatile Gateway gateway;

  final List<byte[]> gatewayWrites = new CopyOnWriteArrayList<>();
  volatile boolean closed;

  FakeTransport(RetryPolicy policy) {
    this.policy = policy;
  }

  /** An answer from {@code server} carrying {@code reply}. */
  static Answer reply(String server, Reply reply) {
    return new Answer(RaftPeerId.valueOf(server), reply.toByteString());
  }

  /**
   * Fails attempts with {@code cause} the way Ratis' blocking loop does: asks the policy after
   * each, sleeps as told, and throws the cause when the policy gives up.
   */
  Answer failEveryAttempt(IOException cause) throws IOException {
    while (true) {
      RetryPolicy.Action action = policy.handleAttemptFailure(ClientRetry.causeEvent(cause));
      if (!action.shouldRetry()) {
        throw cause;
      }
      try {
        action.getSleepTime().sleep();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted");
      }
    }
  }

  /** Sessions the client opened; the fake answers each at once, outside the test's script. */
  final AtomicLong sessionsOpened = new AtomicLong();

  /** False: OpenSession goes to the test's server like any write. */
  volatile boolean openSessions = true;

  private Answer openedSession(Message command) {
    if (!openSessions) {
      return null;
    }
    try {
      if (Command.parseFrom(command.getContent().toByteArray()).hasOpenSession()) {
        return reply(
            "n1",
            Reply.newBuilder()
                .setSession(
                    Session.newBuilder()
                        .setId(sessionsOpened.incrementAndGet())
                        .setTimeoutMs(600_000))
                .build());
      }
    } catch (InvalidProtocolBufferException e) {
      // Not a command the fake can read: the test's server answers it.
    }
    return null;
  }

  @Override
  public GatewayReply submitToGateway(Message command) throws IOException {
    Gateway current = gateway;
    if (current == null) {
      return null;
    }
    Answer opened = openedSession(command);
    if (opened != null) {
      return GatewayReply.newBuilder()
          .setOutcome(GatewayReply.Outcome.ANSWERED)
          .setReply(opened.reply())
          .setServerId("n1")
          .build();
    }
    gatewayWrites.add(command.getContent().toByteArray());
    return current.submit(command);
  }

  @Override
  public Answer write(Message command) throws IOException {
    Answer opened = openedSession(command);
    if (opened != null) {
      return opened;
    }
    writes.add(command.getContent().toByteArray());
    return server.handle(true, command);
  }

  @Override
  public Answer read(Message query) throws IOException {
    reads.add(query.getContent().toByteArray());
    return server.handle(false, query);
  }

  /** Reads addressed to one member, with the minimum index asked for. */
  final List<String> memberReads = new java.util.concurrent.CopyOnWriteArrayList<>();

  @Override
  public Answer readFrom(RaftPeerId member, Message query, long minIndex) throws IOException {
    memberReads.add(member + "@" + minIndex);
    return server.handle(false, query);
  }

  @Override
  public List<RaftPeerId> members() {
    return List.of(RaftPeerId.valueOf("n1"), RaftPeerId.valueOf("n2"), RaftPeerId.valueOf("n3"));
  }

  @Override
  public RaftPeerId currentLeader() {
    return leader;
  }

  @Override
  public String addressOf(RaftPeerId peer) {
    return "10.0.0." + peer.toString().substring(1) + ":7001";
  }

  @Override
  public void close() {
    closed = true;
  }
}

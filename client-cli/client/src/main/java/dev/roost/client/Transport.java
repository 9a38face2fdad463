package dev.roost.client;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * The blocking Ratis calls {@link RoostClient} makes, behind an interface so that the client's
 * retry, deadline and error handling can be tested without servers. {@link RatisTransport} is the
 * real one.
 */
interface Transport extends Closeable {
  /** A string unique to this client instance: the {@code client_id} of its request ids. */
  String clientId();

  /** Sends a write; Ratis retries it under the installed retry policy with one call id. */
  Answer write(Message command) throws IOException;

  /** Sends a linearizable read, retried like a write. */
  Answer read(Message query) throws IOException;

  /**
   * Sends a read to one member, answered from that member's state once it has applied {@code
   * minIndex}; tried once, without retries, so that a dead member costs one attempt.
   *
   * @throws IOException if that member did not answer it
   */
  Answer readFrom(RaftPeerId member, Message query, long minIndex) throws IOException;

  /** The members this client knows, in a fixed order. */
  List<RaftPeerId> members();

  /** The server Ratis addresses next: its current guess of the leader. */
  RaftPeerId currentLeader();

  /** The {@code host:port} of a peer, or {@code ""} if it cannot be learned. */
  String addressOf(RaftPeerId peer);

  @Override
  void close();
}

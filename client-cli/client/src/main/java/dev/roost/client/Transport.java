package dev.roost.client;

import dev.roost.proto.GatewayReply;
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
  /**
   * One attempt at a write through the leader's write gateway: no retry, no redirect.
   *
   * @return the gateway's answer, whatever its outcome; null if there is no gateway to try now
   *     (turned off, the servers have none, or no leader known yet): send the write with {@link
   *     #write} instead
   * @throws org.apache.ratis.protocol.exceptions.ResourceUnavailableException if the gateway's
   *     queue was full: nothing was sent
   * @throws IOException if the attempt got no answer it could read (not sent, lost, timed out or
   *     undecodable)
   */
  GatewayReply submitToGateway(Message command) throws IOException;

  /**
   * Sends a write as a Ratis request; Ratis retries it under the installed retry policy with one
   * call id, following the servers' redirects to the leader.
   */
  Answer write(Message command) throws IOException;

  /**
   * Sends a linearizable read, retried like a write.
   *
   * @throws org.apache.ratis.protocol.exceptions.ReadException if the member addressed could not
   *     serve the read now; the next call addresses another member
   */
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

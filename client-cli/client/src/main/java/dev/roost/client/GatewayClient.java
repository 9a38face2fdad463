package dev.roost.client;

import dev.roost.api.GatewayMethod;
import dev.roost.proto.GatewayReply;
import java.io.Closeable;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.thirdparty.io.grpc.CallOptions;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls;
import org.apache.ratis.util.TimeDuration;

/**
 * Sends writes to a server's write gateway ({@link GatewayMethod}), where the leader puts the
 * writes of many clients into one log entry. One attempt per call, to the address given: what to do
 * when it fails is the {@link RatisTransport}'s business.
 */
final class GatewayClient implements Closeable {
  /** The server has no gateway (not a roost-server, or an older one). */
  static final class Unsupported extends IOException {
    Unsupported(String address) {
      super("no write gateway at " + address);
    }
  }

  /**
   * The gateway did not take the write (its member is not the leader, or the leader is not ready,
   * stepping down or overloaded): nothing of it was applied.
   */
  static final class NotTaken extends IOException {
    NotTaken(String message) {
      super(message);
    }
  }

  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final long attemptTimeoutMillis;

  GatewayClient(TimeDuration attemptTimeout) {
    this.attemptTimeoutMillis = attemptTimeout.toLong(TimeUnit.MILLISECONDS);
  }

  /**
   * Sends {@code command} to the gateway at {@code address} and waits up to one attempt timeout.
   *
   * @return the gateway's answer, whatever its outcome
   * @throws Unsupported if that server has no gateway
   * @throws ResourceUnavailableException if the server refused it, overloaded, before sending it
   * @throws IOException if the attempt got no answer it could read (not sent, lost, timed out, or
   *     undecodable)
   */
  GatewayReply submit(String address, Message command) throws IOException {
    ManagedChannel channel =
        channels.computeIfAbsent(
            address, a -> NettyChannelBuilder.forTarget(a).usePlaintext().build());
    byte[] answer;
    try {
      answer =
          ClientCalls.blockingUnaryCall(
              channel,
              GatewayMethod.SUBMIT,
              CallOptions.DEFAULT.withDeadlineAfter(attemptTimeoutMillis, TimeUnit.MILLISECONDS),
              command.getContent().toByteArray());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
        throw new Unsupported(address);
      }
      if (e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
        // Refused before anything was sent: a refusal, as Ratis' own overload answer is.
        throw new ResourceUnavailableException(
            "write gateway at " + address + ": " + e.getStatus().getDescription());
      }
      throw new IOException("write gateway at " + address + ": " + e.getStatus(), e);
    }
    return GatewayReply.parseFrom(answer);
  }

  /**
   * The failure of an attempt whose answer neither carries a reply nor is the leader's refusal:
   * {@link NotTaken}, or, for any other answer, an {@link IOException} that leaves the write's
   * outcome unknown.
   */
  static IOException failure(String address, GatewayReply answer) {
    String from = "write gateway at " + address + ": ";
    if (answer.getOutcome() == GatewayReply.Outcome.NOT_TAKEN) {
      String leader =
          answer.getLeaderId().isEmpty() ? "" : " (the leader is " + answer.getLeaderId() + ")";
      return new NotTaken(from + "not taken" + leader + ": " + answer.getMessage());
    }
    return new IOException(
        from
            + "outcome unknown: "
            + (answer.getMessage().isEmpty() ? "no reply in the answer" : answer.getMessage()));
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
  }
}

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
import org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls;
import org.apache.ratis.util.TimeDuration;

/**
 * Sends writes to a server's write gateway ({@link GatewayMethod}), where the leader puts the
 * writes of many clients into one log entry. One attempt per call, to the address given: what an
 * answer or a failure means for the write, and what to do next, is {@link ClientRetry}'s business.
 */
final class GatewayClient implements Closeable {
  /** The server has no gateway (not a roost-server, or an older one). */
  static final class Unsupported extends IOException {
    Unsupported(String address) {
      super("no write gateway at " + address);
    }
  }

  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final long attemptTimeoutMillis;
  private final Tls tls;

  GatewayClient(TimeDuration attemptTimeout, Tls tls) {
    this.attemptTimeoutMillis = attemptTimeout.toLong(TimeUnit.MILLISECONDS);
    this.tls = tls;
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
    ManagedChannel channel = channels.computeIfAbsent(address, tls::channel);
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

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
  }
}

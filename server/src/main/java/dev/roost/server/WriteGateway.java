package dev.roost.server;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.GatewayMethod;
import dev.roost.api.Peers;
import dev.roost.api.WireLimits;
import dev.roost.proto.Command;
import dev.roost.statemachine.RoostStateMachine;
import java.io.IOException;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import org.apache.ratis.client.impl.ClientProtoUtils;
import org.apache.ratis.grpc.server.GrpcServices;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.thirdparty.io.grpc.ServerServiceDefinition;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyServerBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ServerCallStreamObserver;
import org.apache.ratis.thirdparty.io.grpc.stub.ServerCalls;
import org.apache.ratis.thirdparty.io.grpc.stub.StreamObserver;

/**
 * The write gateway ({@link GatewayMethod}): Roost's own write RPC on the Raft port, next to Ratis'
 * client service, feeding the {@link WriteCombiner} so that the writes of many separate clients
 * share log entries. Ratis turns every client request into a log entry of its own, and on a
 * CPU-bound cluster that per-entry cost (the request, its entry, replication, sync, apply on every
 * member and the reply) is what limits throughput when many clients each have one write out.
 *
 * <p>The gateway submits to the local Raft server as one Ratis client of its own, so Ratis does the
 * rest as for any client: a member that is not the leader answers with the usual {@code
 * NotLeaderException} (the Roost client then goes the Ratis way, which follows the redirect), and
 * the reply carries the commit infos the client learns the membership from.
 */
final class WriteGateway implements GrpcServices.Customizer {
  /**
   * Combined entries outstanding at once: one, as in the client (README, "Measured figures",
   * leader-side batching).
   */
  static final int ENTRIES_IN_FLIGHT = 1;

  /** Calls waiting for the log before new ones are refused: a bound on memory, not a tuning. */
  static final int MAX_QUEUED = 20_000;

  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final WriteCombiner combiner;
  private volatile RaftServer server;

  /**
   * A gateway for a server running {@code stateMachine}; {@link #attach} it before it starts.
   *
   * @param entrySent told the number of writes of each entry it sends, for metrics
   */
  WriteGateway(RoostStateMachine stateMachine, IntConsumer entrySent) {
    this.combiner =
        new WriteCombiner(
            ENTRIES_IN_FLIGHT,
            stateMachine.maxBatchCommands(),
            WireLimits.MAX_COMMAND_BYTES - 1024,
            MAX_QUEUED,
            this::submitToRaft,
            entrySent);
  }

  /** The Raft server to submit to; set before it starts, so before the first call arrives. */
  void attach(RaftServer raftServer) {
    this.server = raftServer;
  }

  @Override
  public NettyServerBuilder customize(
      NettyServerBuilder builder, EnumSet<GrpcServices.Type> types) {
    if (!types.contains(GrpcServices.Type.CLIENT)) {
      return builder;
    }
    return builder.addService(
        ServerServiceDefinition.builder(GatewayMethod.SERVICE)
            .addMethod(GatewayMethod.SUBMIT, ServerCalls.asyncUnaryCall(this::submit))
            .build());
  }

  private void submit(byte[] request, StreamObserver<byte[]> response) {
    ServerCallStreamObserver<byte[]> call = (ServerCallStreamObserver<byte[]>) response;
    // Set, so that answering a caller that has gone does nothing rather than throw.
    call.setOnCancelHandler(() -> {});
    Command command;
    try {
      command = Command.parseFrom(request);
    } catch (InvalidProtocolBufferException e) {
      call.onError(
          Status.INVALID_ARGUMENT
              .withDescription("malformed command: " + e.getMessage())
              .asRuntimeException());
      return;
    }
    combiner
        .submit(command, call::isCancelled)
        .whenComplete(
            (reply, failure) -> {
              if (failure instanceof WriteCombiner.Overloaded) {
                call.onError(
                    Status.RESOURCE_EXHAUSTED
                        .withDescription(failure.getMessage())
                        .asRuntimeException());
              } else if (failure != null) {
                call.onError(
                    Status.UNAVAILABLE
                        .withDescription("the write may not have been submitted: " + failure)
                        .asRuntimeException());
              } else {
                call.onNext(ClientProtoUtils.toRaftClientReplyProto(reply).toByteArray());
                call.onCompleted();
              }
            });
  }

  private CompletableFuture<RaftClientReply> submitToRaft(Command command) {
    RaftClientRequest request =
        RaftClientRequest.newBuilder()
            .setClientId(clientId)
            .setServerId(server.getId())
            .setGroupId(Peers.GROUP_ID)
            .setCallId(callIds.incrementAndGet())
            .setMessage(Message.valueOf(UnsafeByteOperations.unsafeWrap(command.toByteArray())))
            .setType(RaftClientRequest.writeRequestType())
            .build();
    try {
      return server.submitClientRequestAsync(request);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}

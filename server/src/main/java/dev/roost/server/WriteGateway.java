package dev.roost.server;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.GatewayMethod;
import dev.roost.api.Peers;
import dev.roost.api.RejectedCommandException;
import dev.roost.api.WireLimits;
import dev.roost.proto.Command;
import dev.roost.proto.GatewayReply;
import dev.roost.proto.StatusCode;
import dev.roost.statemachine.RoostStateMachine;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import org.apache.ratis.grpc.server.GrpcServices;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.protocol.exceptions.TransferLeadershipException;
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
 * rest as for any client, and answers each caller with Roost's own {@code GatewayReply}: the state
 * machine's reply, the leader's refusal, or, when this member is not the leader, {@code NOT_TAKEN}
 * with the leader it knows of (the Roost client then goes the Ratis way, which follows the
 * redirect). An answered write carries the members of the current configuration, from which the
 * client learns the membership.
 */
final class WriteGateway implements GrpcServices.Customizer {
  /**
   * Combined entries outstanding at once: one, as in the client, for the same reason: what a busy
   * leader runs out of is the cost of each entry, so writes that arrive while one commits wait and
   * share the next.
   */
  static final int ENTRIES_IN_FLIGHT = 1;

  /** Calls waiting for the log before new ones are refused: a bound on memory, not a tuning. */
  static final int MAX_QUEUED = 20_000;

  /**
   * Bytes of calls waiting for the log before new ones are refused: what a flood of large commands
   * can pin on the heap (32 commands at the size limit), while small writes still queue by the
   * thousand.
   */
  static final long MAX_QUEUED_BYTES = 64L << 20;

  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final RoostStateMachine stateMachine;
  private final WriteCombiner combiner;
  private volatile RaftServer server;

  /**
   * A gateway for a server running {@code stateMachine}; {@link #attach} it before it starts.
   *
   * @param entrySent told the number of writes of each entry it sends, for metrics
   */
  WriteGateway(RoostStateMachine stateMachine, IntConsumer entrySent) {
    this.stateMachine = stateMachine;
    this.combiner = combiner(stateMachine, this::submitToRaft, entrySent);
  }

  /** A gateway whose entries go to {@code submit} instead of a Raft server. */
  WriteGateway(RoostStateMachine stateMachine, WriteCombiner.Submit submit, IntConsumer entrySent) {
    this.stateMachine = stateMachine;
    this.combiner = combiner(stateMachine, submit, entrySent);
  }

  private static WriteCombiner combiner(
      RoostStateMachine stateMachine, WriteCombiner.Submit submit, IntConsumer entrySent) {
    return new WriteCombiner(
        ENTRIES_IN_FLIGHT,
        stateMachine.maxBatchCommands(),
        WireLimits.MAX_COMMAND_BYTES - 1024,
        MAX_QUEUED,
        MAX_QUEUED_BYTES,
        submit,
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
    handle(request, call::isCancelled)
        .whenComplete(
            (answer, failure) -> {
              if (failure != null) {
                call.onError(failure);
              } else {
                call.onNext(answer.toByteArray());
                call.onCompleted();
              }
            });
  }

  /**
   * What the gateway answers to one call carrying {@code request}: a malformed or oversize command
   * is refused at once, before it waits or is combined with other clients' writes ({@link
   * RoostStateMachine#refusedBeforeCombining}); any other goes to the combiner.
   *
   * @param abandoned true once the caller has gone
   * @return the answer, or a failure with the gRPC status to end the call with
   */
  CompletableFuture<GatewayReply> handle(byte[] request, BooleanSupplier abandoned) {
    Command command;
    try {
      command = Command.parseFrom(request);
    } catch (InvalidProtocolBufferException e) {
      return CompletableFuture.failedFuture(
          Status.INVALID_ARGUMENT
              .withDescription("malformed command: " + e.getMessage())
              .asRuntimeException());
    }
    Optional<RejectedCommandException> refusal =
        stateMachine.refusedBeforeCombining(command, request.length);
    if (refusal.isPresent()) {
      return CompletableFuture.completedFuture(
          refused(refusal.get().code(), refusal.get().detail()));
    }
    return combiner
        .submit(command, abandoned)
        .handle(
            (reply, failure) -> {
              if (failure == null) {
                return answer(reply);
              } else if (failure instanceof WriteCombiner.Overloaded) {
                throw Status.RESOURCE_EXHAUSTED
                    .withDescription(failure.getMessage())
                    .asRuntimeException();
              } else if (failure instanceof WriteCombiner.ReplyMismatch) {
                return reply(GatewayReply.Outcome.OUTCOME_UNKNOWN)
                    .setMessage(failure.getMessage())
                    .build();
              }
              throw Status.UNAVAILABLE
                  .withDescription("the write may not have been submitted: " + failure)
                  .asRuntimeException();
            });
  }

  /** A refusal of a command that never reached the log, as the leader would have refused it. */
  private GatewayReply refused(StatusCode code, String message) {
    return reply(GatewayReply.Outcome.REJECTED).setCode(code).setMessage(message).build();
  }

  private GatewayReply.Builder reply(GatewayReply.Outcome outcome) {
    RaftServer raftServer = server;
    return GatewayReply.newBuilder()
        .setServerId(raftServer == null ? "" : raftServer.getId().toString())
        .setOutcome(outcome);
  }

  /** What the gateway tells a caller whose command got {@code reply} from the Raft server. */
  static GatewayReply answer(RaftClientReply reply) {
    GatewayReply.Builder answer =
        GatewayReply.newBuilder().setServerId(reply.getServerId().toString());
    if (reply.isSuccess()) {
      answer.setOutcome(GatewayReply.Outcome.ANSWERED);
      if (reply.getMessage() != null) {
        // Plain protobuf's, not Ratis' shaded copy: wraps the state machine's bytes, no copy.
        answer.setReply(
            com.google.protobuf.UnsafeByteOperations.unsafeWrap(
                reply.getMessage().getContent().asReadOnlyByteBuffer()));
      }
      for (CommitInfoProto info : reply.getCommitInfos()) {
        answer.addMembers(
            GatewayReply.Member.newBuilder()
                .setId(info.getServer().getId().toStringUtf8())
                .setAddress(info.getServer().getAddress())
                .setClientAddress(info.getServer().getClientAddress()));
      }
      return answer.build();
    }
    RaftException failure = reply.getException();
    answer.setMessage(String.valueOf(failure));
    if (failure instanceof StateMachineException refused) {
      answer.setOutcome(GatewayReply.Outcome.REJECTED);
      if (refused.getCause() instanceof RejectedCommandException rejected) {
        answer.setCode(rejected.code()).setMessage(rejected.detail());
      } else {
        answer
            .setCode(StatusCode.INTERNAL)
            .setMessage("the server's state machine failed: " + refused.getMessage());
      }
    } else if (failure instanceof NotLeaderException notLeader) {
      answer.setOutcome(GatewayReply.Outcome.NOT_TAKEN);
      if (notLeader.getSuggestedLeader() != null) {
        answer.setLeaderId(notLeader.getSuggestedLeader().getId().toString());
      }
    } else if (failure instanceof LeaderNotReadyException
        || failure instanceof LeaderSteppingDownException
        || failure instanceof TransferLeadershipException
        || failure instanceof ResourceUnavailableException) {
      answer.setOutcome(GatewayReply.Outcome.NOT_TAKEN);
    } else {
      // E.g. the server closing while the entry was out: it may have been committed.
      answer.setOutcome(GatewayReply.Outcome.OUTCOME_UNKNOWN);
    }
    return answer.build();
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

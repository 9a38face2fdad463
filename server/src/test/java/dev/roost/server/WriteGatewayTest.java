package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.roost.api.Peers;
import dev.roost.api.RejectedCommandException;
import dev.roost.api.WireLimits;
import dev.roost.domain.Limits;
import dev.roost.proto.Command;
import dev.roost.proto.CommandBatch;
import dev.roost.proto.GatewayReply;
import dev.roost.proto.GatewayReply.Outcome;
import dev.roost.proto.KvPut;
import dev.roost.proto.Reply;
import dev.roost.proto.RequestId;
import dev.roost.proto.StatusCode;
import dev.roost.statemachine.RoostStateMachine;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.junit.jupiter.api.Test;

/** What the gateway tells a caller, for each kind of answer its Raft server gives. */
class WriteGatewayTest {
  private static final RaftGroupMemberId N2 =
      RaftGroupMemberId.valueOf(RaftPeerId.valueOf("n2"), Peers.GROUP_ID);

  @Test
  void anAppliedWriteIsAnsweredWithItsReplyAndTheMembers() throws Exception {
    Reply reply = Reply.newBuilder().setAppliedIndex(7).build();
    RaftClientReply applied =
        builder()
            .setSuccess()
            .setMessage(Message.valueOf(ByteString.copyFrom(reply.toByteArray())))
            .setCommitInfos(List.of(commitInfo("n1", "h1:7001"), commitInfo("n2", "h2:7001")))
            .build();

    GatewayReply answer = WriteGateway.answer(applied);

    assertThat(answer.getOutcome()).isEqualTo(Outcome.ANSWERED);
    assertThat(answer.getServerId()).isEqualTo("n2");
    assertThat(Reply.parseFrom(answer.getReply())).isEqualTo(reply);
    assertThat(answer.getMembersList())
        .extracting(GatewayReply.Member::getId, GatewayReply.Member::getAddress)
        .containsExactly(tuple("n1", "h1:7001"), tuple("n2", "h2:7001"));
  }

  @Test
  void theLeadersRefusalKeepsItsCode() {
    GatewayReply answer =
        WriteGateway.answer(
            failed(
                new StateMachineException(
                    N2, new RejectedCommandException(StatusCode.INVALID_ARGUMENT, "bad handle"))));

    assertThat(answer.getOutcome()).isEqualTo(Outcome.REJECTED);
    assertThat(answer.getCode()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(answer.getMessage()).isEqualTo("bad handle");
  }

  @Test
  void aFollowerDoesNotTakeTheWriteAndNamesTheLeader() {
    RaftPeer n1 = RaftPeer.newBuilder().setId("n1").setAddress("h1:7001").build();

    GatewayReply answer = WriteGateway.answer(failed(new NotLeaderException(N2, n1, List.of(n1))));

    assertThat(answer.getOutcome()).isEqualTo(Outcome.NOT_TAKEN);
    assertThat(answer.getLeaderId()).isEqualTo("n1");
    assertThat(WriteGateway.answer(failed(new NotLeaderException(N2, null, List.of()))))
        .extracting(GatewayReply::getOutcome, GatewayReply::getLeaderId)
        .containsExactly(Outcome.NOT_TAKEN, "");
    assertThat(WriteGateway.answer(failed(new LeaderSteppingDownException("stepping down"))))
        .extracting(GatewayReply::getOutcome)
        .isEqualTo(Outcome.NOT_TAKEN);
  }

  @Test
  void anyOtherFailureLeavesTheOutcomeUnknown() {
    GatewayReply answer = WriteGateway.answer(failed(new AlreadyClosedException("closing")));

    assertThat(answer.getOutcome()).isEqualTo(Outcome.OUTCOME_UNKNOWN);
    assertThat(answer.getMessage()).contains("closing");
  }

  @Test
  void aMalformedBatchIsRefusedAtOnceAndNeverJoinsOtherClientsWrites() throws Exception {
    List<Command> entries = new ArrayList<>();
    List<CompletableFuture<RaftClientReply>> outstanding = new ArrayList<>();
    WriteGateway gateway =
        new WriteGateway(
            new RoostStateMachine(Limits.DEFAULT),
            command -> {
              entries.add(command);
              CompletableFuture<RaftClientReply> reply = new CompletableFuture<>();
              outstanding.add(reply);
              return reply;
            },
            writes -> {});
    Command first = put("c1", "first");
    Command second = put("c2", "second");
    Command empty = Command.newBuilder().setBatch(CommandBatch.getDefaultInstance()).build();
    Command nested =
        Command.newBuilder()
            .setBatch(CommandBatch.newBuilder().addCommands(empty).addCommands(second))
            .build();

    gateway.handle(first.toByteArray(), () -> false);
    // While the first entry is out, the rest wait to share the next one.
    CompletableFuture<GatewayReply> emptyAnswer = gateway.handle(empty.toByteArray(), () -> false);
    CompletableFuture<GatewayReply> nestedAnswer =
        gateway.handle(nested.toByteArray(), () -> false);
    CompletableFuture<GatewayReply> oversize =
        gateway.handle(
            put("c3", "big").toBuilder()
                .setKvPut(
                    KvPut.newBuilder()
                        .setKey("big")
                        .setValue(
                            com.google.protobuf.ByteString.copyFrom(
                                new byte[WireLimits.MAX_COMMAND_BYTES])))
                .build()
                .toByteArray(),
            () -> false);
    gateway.handle(second.toByteArray(), () -> false);

    for (CompletableFuture<GatewayReply> refused : List.of(emptyAnswer, nestedAnswer)) {
      assertThat(refused.getNow(null))
          .extracting(GatewayReply::getOutcome, GatewayReply::getCode)
          .containsExactly(Outcome.REJECTED, StatusCode.INVALID_ARGUMENT);
    }
    assertThat(oversize.getNow(null))
        .extracting(GatewayReply::getOutcome, GatewayReply::getCode)
        .containsExactly(Outcome.REJECTED, StatusCode.RESOURCE_EXHAUSTED);
    outstanding.get(0).complete(applied(Reply.newBuilder().setAppliedIndex(1).build()));
    // The next entry is the second put alone: nothing of the refused calls went with it.
    assertThat(entries).containsExactly(first, second);
  }

  @Test
  void writesWaitingBeyondTheByteBoundAreRefusedWithResourceExhausted() {
    WriteGateway gateway =
        new WriteGateway(
            new RoostStateMachine(Limits.DEFAULT), command -> new CompletableFuture<>(), w -> {});
    byte[] large =
        put("c", "large").toBuilder()
            .setKvPut(
                KvPut.newBuilder()
                    .setKey("large")
                    .setValue(
                        com.google.protobuf.ByteString.copyFrom(
                            new byte[WireLimits.MAX_COMMAND_BYTES - 1024])))
            .build()
            .toByteArray();

    // The first goes out and is never answered; the rest wait, until the bytes waiting reach the
    // bound.
    gateway.handle(large, () -> false);
    long fit = WriteGateway.MAX_QUEUED_BYTES / large.length;
    for (long i = 0; i < fit; i++) {
      assertThat(gateway.handle(large, () -> false)).isNotDone();
    }
    CompletableFuture<GatewayReply> refused = gateway.handle(large, () -> false);

    assertThat(refused).isCompletedExceptionally();
    // What the gRPC call ends with: the status found in the failure's causes.
    Throwable failure = refused.handle((answer, e) -> e).join();
    assertThat(Status.fromThrowable(failure).getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
  }

  private static Command put(String client, String key) {
    return Command.newBuilder()
        .setRequestId(
            RequestId.newBuilder()
                .setSession(client.hashCode() & 0xFFFF)
                .setSequence(1)
                .setFirstUnanswered(1))
        .setKvPut(KvPut.newBuilder().setKey(key))
        .build();
  }

  private static RaftClientReply applied(Reply reply) {
    return builder()
        .setSuccess()
        .setMessage(Message.valueOf(ByteString.copyFrom(reply.toByteArray())))
        .build();
  }

  private static RaftClientReply.Builder builder() {
    return RaftClientReply.newBuilder()
        .setClientId(ClientId.randomId())
        .setServerId(N2)
        .setCallId(1);
  }

  private static RaftClientReply failed(RaftException e) {
    return builder().setException(e).build();
  }

  private static CommitInfoProto commitInfo(String id, String address) {
    return CommitInfoProto.newBuilder()
        .setServer(RaftPeer.newBuilder().setId(id).setAddress(address).build().getRaftPeerProto())
        .setCommitIndex(5)
        .build();
  }
}

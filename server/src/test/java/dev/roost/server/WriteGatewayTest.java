package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.roost.api.Peers;
import dev.roost.api.RejectedCommandException;
import dev.roost.proto.GatewayReply;
import dev.roost.proto.GatewayReply.Outcome;
import dev.roost.proto.Reply;
import dev.roost.proto.StatusCode;
import java.util.List;
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

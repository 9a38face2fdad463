package dev.roost.statemachine;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.Peers;
import dev.roost.api.RejectedCommandException;
import dev.roost.domain.Limits;
import dev.roost.proto.Reply;
import java.io.IOException;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Hostile bytes through the state machine's own entry points, as Ratis calls them: the leader's
 * check of a client's command ({@code startTransaction}), a committed log entry applied on a member
 * ({@code applyTransaction}), and a read ({@code query}).
 *
 * <p>An input is a sequence of records, each a kind byte (even: a log entry, odd: a query) and a
 * varint-length-prefixed message, so that one input reaches state-dependent paths (a post after a
 * registration, a compare-and-set after a put). The records go to two fresh state machines. The
 * properties: the leader either accepts a command or refuses it with a typed {@link
 * RejectedCommandException}; every entry and query gets a well-formed reply, the same from both
 * state machines; both end with the same digest; nothing throws.
 *
 * <p>{@code ./mvnw test} replays the inputs committed under {@code EntryFuzzTestInputs/}; see
 * docs/testing.md for a fuzzing run.
 */
class EntryFuzzTest {
  private static final int MAX_RECORDS = 32;

  @FuzzTest
  void anyEntriesAndQueriesGetTypedDeterministicReplies(byte[] input) throws IOException {
    RoostStateMachine a = RoostStateMachineTest.withSessions(new RoostStateMachine(Limits.DEFAULT));
    RoostStateMachine b = RoostStateMachineTest.withSessions(new RoostStateMachine(Limits.DEFAULT));
    CodedInputStream records = CodedInputStream.newInstance(input);
    long index = 0;
    for (int i = 0; i < MAX_RECORDS && !records.isAtEnd(); i++) {
      int kind = records.readRawByte();
      byte[] message;
      try {
        message = records.readByteArray();
      } catch (InvalidProtocolBufferException e) {
        break; // the input's framing ends here, not the state machine's parsing
      }
      if (kind % 2 == 0) {
        checkLeaderRefusalIsTyped(a, message);
        index++;
        assertThat(apply(a, index, message)).isEqualTo(apply(b, index, message));
      } else {
        assertThat(query(a, message)).isEqualTo(query(b, message));
      }
    }
    assertThat(a.digest()).isEqualTo(b.digest());
  }

  /** The leader's check changes no state: it only accepts or refuses. */
  private static void checkLeaderRefusalIsTyped(RoostStateMachine sm, byte[] command)
      throws IOException {
    RaftClientRequest request =
        RaftClientRequest.newBuilder()
            .setClientId(ClientId.randomId())
            .setServerId(RaftPeerId.valueOf("n1"))
            .setGroupId(Peers.GROUP_ID)
            .setCallId(1)
            .setMessage(Message.valueOf(ByteString.copyFrom(command)))
            .setType(RaftClientRequest.writeRequestType())
            .build();
    TransactionContext trx = sm.startTransaction(request);
    if (trx.getException() != null) {
      assertThat(trx.getException()).isInstanceOf(RejectedCommandException.class);
    }
  }

  /** Applies {@code data} as the log entry at {@code index}, as a follower or a replay does. */
  private static Reply apply(RoostStateMachine sm, long index, byte[] data) throws IOException {
    Message reply = RoostStateMachineTest.applyAsFollower(sm, index, data);
    return Reply.parseFrom(reply.getContent().toByteArray());
  }

  private static Reply query(RoostStateMachine sm, byte[] query) throws IOException {
    Message reply = sm.query(Message.valueOf(ByteString.copyFrom(query))).join();
    return Reply.parseFrom(reply.getContent().toByteArray());
  }
}

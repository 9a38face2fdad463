package dev.roost.statemachine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.roost.api.Peers;
import dev.roost.api.RejectedCommandException;
import dev.roost.domain.Limits;
import dev.roost.proto.Command;
import dev.roost.proto.Command.OpCase;
import dev.roost.proto.CommandBatch;
import dev.roost.proto.Follow;
import dev.roost.proto.GetUser;
import dev.roost.proto.KvGet;
import dev.roost.proto.Query;
import dev.roost.proto.Query.QCase;
import dev.roost.proto.QueryBatch;
import dev.roost.proto.RegisterUser;
import dev.roost.proto.RequestId;
import dev.roost.proto.StatusCode;
import java.util.ArrayList;
import java.util.List;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What {@link RoostStateMachine.Observer} hears, driven through the adapter's Ratis entry points
 * the way a server drives them (leader: startTransaction then applyTransaction with the same
 * context; follower: a context rebuilt from the log entry), without a Raft group.
 */
class RoostStateMachineObserverTest {
  private record Applied(OpCase op, StatusCode code, long nanosSinceAccept) {}

  private record Rejected(OpCase op, StatusCode code) {}

  private record Served(QCase query, StatusCode code, long nanos) {}

  private static final class Recorder implements RoostStateMachine.Observer {
    final List<Applied> applied = new ArrayList<>();
    final List<Rejected> rejected = new ArrayList<>();
    final List<Served> served = new ArrayList<>();

    @Override
    public void commandRejected(OpCase op, StatusCode code) {
      rejected.add(new Rejected(op, code));
    }

    @Override
    public void commandApplied(OpCase op, StatusCode code, long nanosSinceAccept) {
      applied.add(new Applied(op, code, nanosSinceAccept));
    }

    @Override
    public void queryServed(QCase query, StatusCode code, long nanos) {
      served.add(new Served(query, code, nanos));
    }
  }

  private final Recorder recorder = new Recorder();
  private final RoostStateMachine sm =
      RoostStateMachineTest.withSessions(new RoostStateMachine(Limits.DEFAULT, recorder, () -> 1L));
  private long callId;

  @BeforeEach
  void forgetOpeningTheSessions() {
    recorder.applied.clear();
  }

  private RaftClientRequest request(byte[] content) {
    return RaftClientRequest.newBuilder()
        .setClientId(ClientId.randomId())
        .setServerId(RaftPeerId.valueOf("n1"))
        .setGroupId(Peers.GROUP_ID)
        .setCallId(++callId)
        .setMessage(Message.valueOf(ByteString.copyFrom(content)))
        .setType(RaftClientRequest.writeRequestType())
        .build();
  }

  private static byte[] register(String handle, long sequence) {
    return Command.newBuilder()
        .setRequestId(
            RequestId.newBuilder().setSession(1).setSequence(sequence).setFirstUnanswered(1))
        .setRegisterUser(RegisterUser.newBuilder().setHandle(handle))
        .build()
        .toByteArray();
  }

  @Test
  void theLeaderReportsTheTimeFromAcceptToApply() throws Exception {
    TransactionContext trx = sm.startTransaction(request(register("alice", 1)));
    assertThat(trx.getException()).isNull();
    trx.initLogEntry(1, 1);

    sm.applyTransaction(trx).join();

    assertThat(recorder.applied).hasSize(1);
    Applied a = recorder.applied.get(0);
    assertThat(a.op()).isEqualTo(OpCase.REGISTER_USER);
    assertThat(a.code()).isEqualTo(StatusCode.OK);
    assertThat(a.nanosSinceAccept()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void aFollowerAppliesWithoutATimeAndReportsTheDomainCode() throws Exception {
    // The leader accepted two registrations of one handle; a follower applies both entries from
    // the log, so it never saw them accepted.
    LogEntryProto first = leaderEntry(register("bob", 1), 1);
    LogEntryProto second = leaderEntry(register("bob", 2), 2);
    RoostStateMachine follower =
        RoostStateMachineTest.withSessions(new RoostStateMachine(Limits.DEFAULT, recorder));
    recorder.applied.clear();

    for (LogEntryProto entry : List.of(first, second)) {
      follower.applyTransaction(follower.startTransaction(entry, RaftPeerRole.FOLLOWER)).join();
    }

    assertThat(recorder.applied)
        .containsExactly(
            new Applied(OpCase.REGISTER_USER, StatusCode.OK, -1),
            new Applied(OpCase.REGISTER_USER, StatusCode.ALREADY_EXISTS, -1));
  }

  /** The log entry a leader makes of {@code command} at {@code index}. */
  private LogEntryProto leaderEntry(byte[] command, long index) throws Exception {
    TransactionContext trx =
        new RoostStateMachine(Limits.DEFAULT, RoostStateMachine.Observer.NONE, () -> 1L)
            .startTransaction(request(command));
    return trx.initLogEntry(1, index);
  }

  @Test
  void aRefusedCommandIsReportedWithItsCodeAndNeverApplied() throws Exception {
    TransactionContext bad = sm.startTransaction(request(register("x", 1)));
    TransactionContext garbage = sm.startTransaction(request(new byte[] {(byte) 0xff, 0x01}));

    assertThat(bad.getException()).isInstanceOf(RejectedCommandException.class);
    assertThat(garbage.getException()).isInstanceOf(RejectedCommandException.class);
    assertThat(recorder.rejected)
        .containsExactly(
            new Rejected(OpCase.REGISTER_USER, StatusCode.INVALID_ARGUMENT),
            new Rejected(OpCase.OP_NOT_SET, StatusCode.INVALID_ARGUMENT));
    assertThat(recorder.applied).isEmpty();
  }

  @Test
  void aCommandRatisCancelsIsReportedNoMoreThanItsRefusal() throws Exception {
    // Since Ratis 3.3 the leader cancels the transaction of a command it refuses, whether this
    // state machine refused it or Ratis did after startTransaction (no longer the leader, full).
    TransactionContext refused = sm.startTransaction(request(register("x", 1)));
    TransactionContext accepted = sm.startTransaction(request(register("alice", 2)));

    refused.cancelTransaction();
    accepted.cancelTransaction();

    assertThat(recorder.rejected)
        .containsExactly(new Rejected(OpCase.REGISTER_USER, StatusCode.INVALID_ARGUMENT));
    assertThat(recorder.applied).isEmpty();
  }

  @Test
  void queriesAreReportedWithTheirKindAndCode() {
    Query missing = Query.newBuilder().setGetUser(GetUser.newBuilder().setHandle("nobody")).build();

    sm.query(Message.valueOf(ByteString.copyFrom(missing.toByteArray()))).join();

    assertThat(recorder.served).hasSize(1);
    assertThat(recorder.served.get(0).query()).isEqualTo(QCase.GET_USER);
    assertThat(recorder.served.get(0).code()).isEqualTo(StatusCode.NOT_FOUND);
    assertThat(recorder.served.get(0).nanos()).isGreaterThanOrEqualTo(0);
  }

  private static byte[] batch(Command... writes) {
    return Command.newBuilder()
        .setBatch(CommandBatch.newBuilder().addAllCommands(List.of(writes)))
        .build()
        .toByteArray();
  }

  private static Command parsed(byte[] command) throws Exception {
    return Command.parseFrom(command);
  }

  @Test
  void aBatchIsReportedOncePerWriteWithTheEntrysTime() throws Exception {
    TransactionContext trx =
        sm.startTransaction(
            request(
                batch(
                    parsed(register("alice", 1)),
                    parsed(register("alice", 2)),
                    Command.newBuilder()
                        .setRequestId(
                            RequestId.newBuilder()
                                .setSession(1)
                                .setSequence(3)
                                .setFirstUnanswered(1))
                        .setFollow(Follow.newBuilder().setFollower("alice").setFollowee("bob"))
                        .build())));
    trx.initLogEntry(1, 1);

    sm.applyTransaction(trx).join();

    assertThat(recorder.applied)
        .extracting(Applied::op, Applied::code)
        .containsExactly(
            tuple(OpCase.REGISTER_USER, StatusCode.OK),
            tuple(OpCase.REGISTER_USER, StatusCode.ALREADY_EXISTS),
            tuple(OpCase.FOLLOW, StatusCode.NOT_FOUND));
    assertThat(recorder.applied).extracting(Applied::nanosSinceAccept).allMatch(n -> n >= 0);
    assertThat(recorder.rejected).isEmpty();
  }

  @Test
  void aBatchRefusedWholeIsReportedAsABatch() throws Exception {
    sm.startTransaction(request(batch()));

    assertThat(recorder.rejected)
        .containsExactly(new Rejected(OpCase.BATCH, StatusCode.INVALID_ARGUMENT));
    assertThat(recorder.applied).isEmpty();
  }

  @Test
  void aQueryBatchIsReportedOncePerQuery() {
    Query batch =
        Query.newBuilder()
            .setBatch(
                QueryBatch.newBuilder()
                    .addQueries(
                        Query.newBuilder().setGetUser(GetUser.newBuilder().setHandle("nobody")))
                    .addQueries(
                        Query.newBuilder().setKvGet(KvGet.newBuilder().setKey("k")).build()))
            .build();
    Query empty = Query.newBuilder().setBatch(QueryBatch.getDefaultInstance()).build();

    sm.query(Message.valueOf(ByteString.copyFrom(batch.toByteArray()))).join();
    sm.query(Message.valueOf(ByteString.copyFrom(empty.toByteArray()))).join();

    assertThat(recorder.served)
        .extracting(Served::query, Served::code)
        .containsExactly(
            tuple(QCase.GET_USER, StatusCode.NOT_FOUND),
            tuple(QCase.KV_GET, StatusCode.NOT_FOUND),
            tuple(QCase.BATCH, StatusCode.INVALID_ARGUMENT));
    assertThat(recorder.served).extracting(Served::nanos).allMatch(n -> n >= 0);
  }

  @Test
  void sizesCountTheState() throws Exception {
    TransactionContext trx = sm.startTransaction(request(register("carol", 1)));
    trx.initLogEntry(1, 1);
    sm.applyTransaction(trx).join();

    assertThat(sm.sizes()).isEqualTo(new RoostStateMachine.StateSizes(1, 0, 0, 0, 4));
  }
}

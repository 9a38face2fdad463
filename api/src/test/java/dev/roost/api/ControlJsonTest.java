package dev.roost.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.proto.AdminReply;
import dev.roost.proto.ErrorReply;
import dev.roost.proto.MemberProgress;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.Peer;
import dev.roost.proto.Role;
import dev.roost.proto.StatusCode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The control plane's JSON is a contract: the CLI, the process launchers, the failover bench, the
 * docs (operations.md) and operators' scripts read {@code /status} and the admin answers by these
 * names. A rename in roost.proto or a change of the printer's options fails here.
 */
class ControlJsonTest {
  private static final Pattern KEY = Pattern.compile("\"([A-Za-z]+)\":");

  private static MemberStatus leaderStatus() {
    return MemberStatus.newBuilder()
        .setId("n1")
        .setRole(Role.LEADER)
        .setTerm(4)
        .setLeader("n1")
        .setCommitIndex(90)
        .setAppliedIndex(89)
        .setLeaderCommitIndex(90)
        .addPeers(
            Peer.newBuilder()
                .setId("n1")
                .setAddress("127.0.0.1:7001")
                .setClientAddress("127.0.0.1:7201"))
        .setReady(true)
        .setAddress("127.0.0.1:7001")
        .setClientAddress("127.0.0.1:7201")
        .setLastContactMs(0)
        .setSnapshotIndex(-1)
        .addMembers(
            MemberProgress.newBuilder()
                .setId("n1")
                .setAddress("127.0.0.1:7001")
                .setClientAddress("127.0.0.1:7201")
                .setRole(Role.LEADER)
                .setCommitIndex(90)
                .setLastContactMs(0))
        .build();
  }

  private static List<String> keys(String json) {
    List<String> out = new ArrayList<>();
    Matcher m = KEY.matcher(json);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  @Test
  void statusKeepsTheFieldNamesEveryReaderUses() {
    String json = ControlJson.print(leaderStatus());

    assertThat(keys(json))
        .containsExactly(
            "id",
            "role",
            "term",
            "leader",
            "commitIndex",
            "appliedIndex",
            "leaderCommitIndex",
            "peers",
            "id",
            "address",
            "clientAddress",
            "ready",
            "address",
            "lastContactMs",
            "snapshotIndex",
            "members",
            "id",
            "address",
            "role",
            "commitIndex",
            "lastContactMs",
            "clientAddress",
            "clientAddress",
            "tlsExpiresMs");
    assertThat(json)
        .doesNotContain("\n")
        .contains("\"role\":\"LEADER\"", "\"ready\":true", "\"term\":\"4\"");
  }

  @Test
  void defaultsArePrintedSoTheShapeNeverChanges() {
    String json = ControlJson.print(MemberStatus.getDefaultInstance());

    assertThat(json)
        .contains("\"leader\":\"\"", "\"peers\":[]", "\"members\":[]", "\"term\":\"0\"");
  }

  @Test
  void statusAsServersBeforeProtoJsonWroteItStillParses() throws Exception {
    // Jackson wrote numbers, and null for no leader; a newer server may add fields.
    String old =
        "{\"id\":\"n2\",\"role\":\"FOLLOWER\",\"term\":3,\"leader\":null,\"commitIndex\":7,"
            + "\"appliedIndex\":7,\"leaderCommitIndex\":-1,\"peers\":[{\"id\":\"n1\","
            + "\"address\":\"h:1\"}],\"ready\":false,\"address\":\"h:2\",\"lastContactMs\":-1,"
            + "\"snapshotIndex\":-1,\"members\":[],\"someday\":{\"x\":1}}";

    MemberStatus s = ControlJson.parse(old, MemberStatus.getDefaultInstance());

    assertThat(s.getRole()).isEqualTo(Role.FOLLOWER);
    assertThat(s.getTerm()).isEqualTo(3);
    assertThat(s.getLeader()).isEmpty();
    assertThat(s.getLeaderCommitIndex()).isEqualTo(-1);
    assertThat(s.getPeers(0).getAddress()).isEqualTo("h:1");
  }

  @Test
  void adminAnswersKeepTheirFieldNames() {
    AdminReply reply =
        AdminReply.newBuilder()
            .setOutcome("snapshot taken")
            .setId("n1")
            .setServer("n1")
            .setTerm(2)
            .setCommitIndex(10)
            .setSnapshotIndex(10)
            .build();
    assertThat(keys(ControlJson.print(reply)))
        .containsExactly("code", "outcome", "id", "server", "term", "commitIndex", "snapshotIndex");
    assertThat(keys(ControlJson.print(reply.toBuilder().clearSnapshotIndex())))
        .doesNotContain("snapshotIndex");

    ErrorReply notLeader =
        ErrorReply.newBuilder()
            .setCode(StatusCode.UNAVAILABLE)
            .setMessage("n2 is not the leader; ask n1")
            .setLeader("n1")
            .build();
    assertThat(ControlJson.print(notLeader))
        .isEqualTo(
            "{\"code\":\"UNAVAILABLE\",\"message\":\"n2 is not the leader; ask n1\","
                + "\"leader\":\"n1\"}");
    assertThat(keys(ControlJson.print(notLeader.toBuilder().clearLeader())))
        .containsExactly("code", "message");
  }

  @Test
  void codesAreReadByNameOrNumber() throws Exception {
    assertThat(
            ControlJson.parse("{\"code\":6,\"message\":\"x\"}", ErrorReply.getDefaultInstance())
                .getCode())
        .isEqualTo(StatusCode.ALREADY_EXISTS);
    assertThat(
            ControlJson.parse("{\"code\":\"NOT_FOUND\"}", ErrorReply.getDefaultInstance())
                .getCode())
        .isEqualTo(StatusCode.NOT_FOUND);
  }

  @Test
  void somethingElseIsRefused() {
    assertThatThrownBy(() -> ControlJson.parse("starting\n", MemberStatus.getDefaultInstance()))
        .isInstanceOf(InvalidProtocolBufferException.class);
  }
}

package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roost.proto.StatusCode;
import dev.roost.server.MembershipRules.Member;
import java.util.List;
import org.junit.jupiter.api.Test;

class MembershipRulesTest {
  private static Member voter(String id, boolean alive, long commit) {
    return new Member(id, "127.0.0.1:70" + id.substring(1) + "0", true, alive, commit);
  }

  private static final List<Member> THREE_UP =
      List.of(voter("n1", true, 10), voter("n2", true, 9), voter("n3", true, 10));

  private static StatusCode code(ThrowingRunnable r) {
    try {
      r.run();
      return StatusCode.OK;
    } catch (AdminException e) {
      return e.code();
    }
  }

  private interface ThrowingRunnable {
    void run() throws AdminException;
  }

  @Test
  void majorities() {
    assertThat(MembershipRules.majority(1)).isEqualTo(1);
    assertThat(MembershipRules.majority(3)).isEqualTo(2);
    assertThat(MembershipRules.majority(4)).isEqualTo(3);
    assertThat(MembershipRules.majority(5)).isEqualTo(3);
  }

  @Test
  void addRefusesAnExistingIdOrAddressAndBadInput() {
    assertThat(code(() -> MembershipRules.checkAdd(THREE_UP, "n4", "127.0.0.1:7040", "7041")))
        .isEqualTo(StatusCode.OK);
    assertThat(code(() -> MembershipRules.checkAdd(THREE_UP, "n2", "127.0.0.1:7999", "7998")))
        .isEqualTo(StatusCode.ALREADY_EXISTS);
    assertThat(code(() -> MembershipRules.checkAdd(THREE_UP, "n9", "127.0.0.1:7020", "7021")))
        .isEqualTo(StatusCode.ALREADY_EXISTS);
    assertThat(code(() -> MembershipRules.checkAdd(THREE_UP, "n9", "no-port", "7021")))
        .isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(code(() -> MembershipRules.checkAdd(THREE_UP, "n9", "127.0.0.1:7090", "7090")))
        .isEqualTo(StatusCode.INVALID_ARGUMENT);
  }

  @Test
  void removingALiveMemberWhileAnotherIsDownWouldLoseTheMajority() {
    List<Member> oneDown =
        List.of(voter("n1", true, 10), voter("n2", true, 10), voter("n3", false, 3));
    // Two live members of three: removing one of them leaves one, fewer than two.
    assertThat(code(() -> MembershipRules.checkRemove(oneDown, "n2")))
        .isEqualTo(StatusCode.FAILED_PRECONDITION);
    // Removing the dead one leaves two live members: a majority of three.
    assertThat(code(() -> MembershipRules.checkRemove(oneDown, "n3"))).isEqualTo(StatusCode.OK);
  }

  @Test
  void fiveMembersTolerateRemovingOneWithOneDownButNotWithTwoDown() {
    List<Member> oneDown =
        List.of(
            voter("n1", true, 1),
            voter("n2", true, 1),
            voter("n3", true, 1),
            voter("n4", true, 1),
            voter("n5", false, 1));
    assertThat(code(() -> MembershipRules.checkRemove(oneDown, "n4"))).isEqualTo(StatusCode.OK);
    List<Member> twoDown =
        List.of(
            voter("n1", true, 1),
            voter("n2", true, 1),
            voter("n3", true, 1),
            voter("n4", false, 1),
            voter("n5", false, 1));
    assertThat(code(() -> MembershipRules.checkRemove(twoDown, "n3")))
        .isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(code(() -> MembershipRules.checkRemove(twoDown, "n5"))).isEqualTo(StatusCode.OK);
  }

  @Test
  void removeRefusesAnUnknownIdAndTheLastVoterButAlwaysAllowsAListener() {
    assertThat(code(() -> MembershipRules.checkRemove(THREE_UP, "n7")))
        .isEqualTo(StatusCode.NOT_FOUND);
    assertThat(code(() -> MembershipRules.checkRemove(List.of(voter("n1", true, 1)), "n1")))
        .isEqualTo(StatusCode.FAILED_PRECONDITION);
    List<Member> withListener =
        List.of(
            voter("n1", true, 1),
            voter("n2", false, 1),
            new Member("n3", "127.0.0.1:7030", false, true, 1));
    assertThatCode(() -> MembershipRules.checkRemove(withListener, "n3"))
        .doesNotThrowAnyException();
  }

  @Test
  void transferNeedsALiveVoter() {
    List<Member> members =
        List.of(
            voter("n1", true, 1),
            voter("n2", false, 1),
            new Member("n3", "127.0.0.1:7030", false, true, 1));
    assertThat(code(() -> MembershipRules.checkTransfer(members, "n2")))
        .isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(code(() -> MembershipRules.checkTransfer(members, "n3")))
        .isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(code(() -> MembershipRules.checkTransfer(members, "n9")))
        .isEqualTo(StatusCode.NOT_FOUND);
  }

  @Test
  void successorIsTheLiveVoterThatCommittedMost() {
    List<Member> members =
        List.of(
            voter("n1", true, 50),
            voter("n2", true, 40),
            voter("n3", true, 48),
            voter("n4", false, 49));
    assertThat(MembershipRules.successor(members, "n1")).contains("n3");
    assertThat(MembershipRules.successor(List.of(voter("n1", true, 1)), "n1")).isEmpty();
  }

  @Test
  void secretIsHiddenAndComparedExactly() {
    AdminSecret s = AdminSecret.of("0123456789abcdef");
    assertThat(s.matches("0123456789abcdef")).isTrue();
    assertThat(s.matches("0123456789abcdeF")).isFalse();
    assertThat(s.matches(null)).isFalse();
    assertThat(s.toString()).doesNotContain("0123");
    assertThatThrownBy(() -> AdminSecret.of("short")).hasMessageContaining("at least 16");
  }
}

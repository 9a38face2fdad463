package dev.roost.server;

import dev.roost.api.Peers;
import dev.roost.proto.StatusCode;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.apache.ratis.protocol.RaftPeer;

/**
 * The checks a membership change must pass before the leader asks Ratis for it: pure functions of
 * the current configuration and of which members the leader hears from, so that they are tested
 * without servers. Ratis itself refuses a second change while one is in progress and rolls back an
 * addition whose server does not answer; these rules add what Ratis does not check.
 */
final class MembershipRules {
  private MembershipRules() {}

  /**
   * One member of the current configuration as the leader sees it.
   *
   * @param voter false for a listener (a non-voting member)
   * @param alive whether the leader heard from it recently (the leader itself always is)
   * @param commitIndex its commit index as the leader last learned it, -1 if unknown
   */
  record Member(String id, String address, boolean voter, boolean alive, long commitIndex) {}

  /** The smallest majority of {@code voters} members. */
  static int majority(int voters) {
    return voters / 2 + 1;
  }

  /**
   * Checks that {@code id} at peer address {@code address} and client address {@code clientAddress}
   * may join: a well-formed entry whose id and peer address no member has.
   *
   * @return the new member
   * @throws AdminException INVALID_ARGUMENT or ALREADY_EXISTS
   */
  static RaftPeer checkAdd(List<Member> current, String id, String address, String clientAddress)
      throws AdminException {
    RaftPeer added;
    try {
      added = Peers.parse(id + "=" + address + "/" + clientAddress).get(0);
    } catch (IllegalArgumentException e) {
      throw new AdminException(StatusCode.INVALID_ARGUMENT, e.getMessage());
    }
    for (Member m : current) {
      if (m.id().equals(id)) {
        throw new AdminException(
            StatusCode.ALREADY_EXISTS, id + " is already a member (at " + m.address() + ")");
      }
      if (m.address().equals(address)) {
        throw new AdminException(
            StatusCode.ALREADY_EXISTS, address + " is already the address of " + m.id());
      }
    }
    return added;
  }

  /**
   * Checks that removing {@code id} leaves at least a majority of the current voters alive, so that
   * the change can commit and the cluster keeps a quorum after it. Removing a dead member is how a
   * crashed server is replaced; removing a live one while others are down may not be.
   *
   * @throws AdminException NOT_FOUND, or FAILED_PRECONDITION naming the counts
   */
  static void checkRemove(List<Member> current, String id) throws AdminException {
    Member target = find(current, id);
    if (!target.voter()) {
      return; // a listener counts in no quorum
    }
    List<Member> voters = current.stream().filter(Member::voter).toList();
    if (voters.size() == 1) {
      throw new AdminException(
          StatusCode.FAILED_PRECONDITION, id + " is the only voting member; it cannot be removed");
    }
    long aliveAfter = voters.stream().filter(m -> m.alive() && !m.id().equals(id)).count();
    int needed = majority(voters.size());
    if (aliveAfter < needed) {
      throw new AdminException(
          StatusCode.FAILED_PRECONDITION,
          "removing "
              + id
              + " would leave "
              + aliveAfter
              + " live voting members, fewer than a majority ("
              + needed
              + ") of the current "
              + voters.size()
              + "; bring the others back first");
    }
  }

  /**
   * Checks that leadership can move to {@code id}: a live voting member.
   *
   * @throws AdminException NOT_FOUND or FAILED_PRECONDITION
   */
  static void checkTransfer(List<Member> current, String id) throws AdminException {
    Member target = find(current, id);
    if (!target.voter()) {
      throw new AdminException(
          StatusCode.FAILED_PRECONDITION, id + " is a listener; only a voting member can lead");
    }
    if (!target.alive()) {
      throw new AdminException(
          StatusCode.FAILED_PRECONDITION, id + " has not answered the leader recently");
    }
  }

  /**
   * The member leadership should move to before {@code leader} leaves: the live voter other than it
   * that has committed the most (it needs the fewest entries to take over), ties broken by id.
   */
  static Optional<String> successor(List<Member> current, String leader) {
    return current.stream()
        .filter(m -> m.voter() && m.alive() && !m.id().equals(leader))
        .max(Comparator.comparingLong(Member::commitIndex).thenComparing(Member::id, reverse()))
        .map(Member::id);
  }

  private static Comparator<String> reverse() {
    return Comparator.<String>naturalOrder().reversed();
  }

  private static Member find(List<Member> current, String id) throws AdminException {
    return current.stream()
        .filter(m -> m.id().equals(id))
        .findFirst()
        .orElseThrow(
            () ->
                new AdminException(
                    StatusCode.NOT_FOUND,
                    "no member "
                        + id
                        + "; members: "
                        + String.join(", ", current.stream().map(Member::id).toList())));
  }

  /** The ids of {@code current} as {@code id=address} entries, for messages and logs. */
  static String format(List<Member> current) {
    return String.join(
        ",",
        current.stream()
            .map(m -> m.id() + "=" + m.address() + (m.voter() ? "" : "(listener)"))
            .toList());
  }
}

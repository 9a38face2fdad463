package dev.roost.server;

import dev.roost.api.Peers;
import dev.roost.proto.Peer;
import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;

/**
 * One reading of this member's Raft state, taken once per HTTP request so that {@code /ready} and
 * {@code /status} judge one consistent set of numbers.
 *
 * @param id this member's id
 * @param alive false once Ratis has closed this member (for example after the state machine
 *     failed); such a process no longer serves and should be restarted
 * @param member whether the current configuration lists this member (as voter or listener)
 * @param role LEADER, FOLLOWER, CANDIDATE or LISTENER
 * @param term the current term
 * @param leader the leader's id, or null when none is known
 * @param leaderReady whether this member leads and has committed an entry of its term
 * @param commitIndex this member's commit index
 * @param appliedIndex the last index its state machine applied
 * @param leaderCommitIndex the leader's commit index as this member last learned it (its own when
 *     it leads), or -1 when unknown
 * @param peers the members of the current configuration, by id
 */
record RaftReading(
    String id,
    boolean alive,
    boolean member,
    String role,
    long term,
    String leader,
    boolean leaderReady,
    long commitIndex,
    long appliedIndex,
    long leaderCommitIndex,
    List<Peer> peers) {

  /**
   * Reads the state of this server's member of the Roost group.
   *
   * @param server the Ratis server, or null before it exists
   * @return empty before the server exists and when it holds no member of the group (removed, or
   *     closed)
   */
  static Optional<RaftReading> of(RaftServer server) {
    if (server == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(read(server.getDivision(Peers.GROUP_ID)));
    } catch (IOException e) {
      // Ratis throws when this server holds no division of the group.
      return Optional.empty();
    }
  }

  /** Reads the state of {@code division}. */
  static RaftReading read(RaftServer.Division division) {
    DivisionInfo info = division.getInfo();
    RaftPeerId leader = info.getLeaderId();
    long commitIndex = division.getRaftLog().getLastCommittedIndex();
    long leaderCommitIndex;
    if (info.isLeader()) {
      leaderCommitIndex = commitIndex;
    } else {
      // A follower learns every member's commit index from the leader's AppendEntries requests
      // (heartbeats included); the leader's own entry is the freshest bound this member knows.
      leaderCommitIndex =
          leader == null
              ? -1
              : division.getCommitInfos().stream()
                  .filter(c -> RaftPeerId.valueOf(c.getServer().getId()).equals(leader))
                  .mapToLong(CommitInfoProto::getCommitIndex)
                  .findFirst()
                  .orElse(-1);
    }
    boolean member =
        division
                .getRaftConf()
                .getPeer(division.getId(), RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER)
            != null;
    List<Peer> peers =
        division.getGroup().getPeers().stream()
            .map(
                p ->
                    Peer.newBuilder()
                        .setId(p.getId().toString())
                        .setAddress(p.getAddress())
                        .setClientAddress(Peers.clientAddress(p))
                        .build())
            .sorted(Comparator.comparing(Peer::getId))
            .toList();
    return new RaftReading(
        division.getId().toString(),
        info.isAlive(),
        member,
        info.getCurrentRole().name(),
        info.getCurrentTerm(),
        leader == null ? null : leader.toString(),
        info.isLeaderReady(),
        commitIndex,
        info.getLastAppliedIndex(),
        leaderCommitIndex,
        peers);
  }

  /**
   * How many entries a member may trail the leader's commit index and still count as caught up.
   * Under a steady write load every follower trails by the entries in flight; demanding zero would
   * make readiness flicker and take healthy members out of service. A restarted member that missed
   * more than this is not ready until it has replayed them.
   */
  static final long CATCH_UP_SLACK = 100;

  /**
   * Why this member cannot serve yet, or empty when it can: it must be alive and in the group, know
   * a leader (a leader must have committed an entry of its own term), and have applied everything
   * (but {@link #CATCH_UP_SLACK} entries) the leader had committed when this member last heard from
   * it. A restarted node is therefore not ready until it has replayed its log and caught up with
   * the leader.
   */
  Optional<String> notReadyReason() {
    if (!alive) {
      return Optional.of("raft server closed");
    }
    if (!member) {
      return Optional.of("not a member of the group");
    }
    if (leader == null) {
      return Optional.of("no leader known (role " + role + ", term " + term + ")");
    }
    if (id.equals(leader) && !leaderReady) {
      return Optional.of("leader has not committed an entry of term " + term + " yet");
    }
    if (leaderCommitIndex < 0) {
      return Optional.of("leader's commit index not known yet");
    }
    if (appliedIndex + CATCH_UP_SLACK < leaderCommitIndex) {
      return Optional.of(
          "catching up: applied " + appliedIndex + " of leader's commit " + leaderCommitIndex);
    }
    return Optional.empty();
  }
}

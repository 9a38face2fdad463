package dev.roost.server;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.statemachine.SnapshotInfo;

/**
 * The membership part of {@code /status}: this member's Raft address, contact with the leader and
 * latest snapshot, and, on the leader, its view of every member. {@code roost cluster status}
 * builds its table from these, so plain users need no admin access to see the cluster.
 *
 * @param address this member's Raft address in the configuration ("" before it is a member)
 * @param lastContactMs on a follower or listener, milliseconds since it last heard from the leader;
 *     0 on the leader; -1 when unknown
 * @param snapshotIndex the log index of this member's latest snapshot, -1 if none
 * @param members on the leader, every member of the configuration with the leader's view of it;
 *     empty elsewhere
 */
record MemberView(String address, long lastContactMs, long snapshotIndex, List<Member> members) {

  /**
   * One member as the leader sees it.
   *
   * @param role LEADER, FOLLOWER (a voter) or LISTENER (a non-voting member)
   * @param commitIndex its commit index as the leader last learned it, -1 if unknown
   * @param lastContactMs milliseconds since it last answered the leader (0 for the leader), -1 if
   *     it never did
   */
  record Member(String id, String address, String role, long commitIndex, long lastContactMs) {}

  static MemberView read(RaftServer.Division d) {
    RaftPeer self =
        d.getRaftConf().getPeer(d.getId(), RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER);
    RoleInfoProto role = d.getInfo().getRoleInfoProto();
    long lastContact = -1;
    if (role.hasLeaderInfo()) {
      lastContact = 0;
    } else if (role.hasFollowerInfo()) {
      lastContact = role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs();
    }
    SnapshotInfo snapshot = d.getStateMachine().getLatestSnapshot();
    List<Member> members = new ArrayList<>();
    if (role.hasLeaderInfo()) {
      Map<String, Long> elapsed = new HashMap<>();
      for (ServerRpcProto f : role.getLeaderInfo().getFollowerInfoList()) {
        elapsed.put(f.getId().getId().toStringUtf8(), f.getLastRpcElapsedTimeMs());
      }
      Map<String, Long> commits = new HashMap<>();
      for (CommitInfoProto c : d.getCommitInfos()) {
        commits.put(c.getServer().getId().toStringUtf8(), c.getCommitIndex());
      }
      for (RaftPeerRole r : List.of(RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER)) {
        for (RaftPeer p : d.getRaftConf().getCurrentPeers(r)) {
          String id = p.getId().toString();
          boolean leader = p.getId().equals(d.getId());
          members.add(
              new Member(
                  id,
                  p.getAddress(),
                  leader ? "LEADER" : r.name(),
                  commits.getOrDefault(id, -1L),
                  leader ? 0 : elapsed.getOrDefault(id, -1L)));
        }
      }
      members.sort(java.util.Comparator.comparing(Member::id));
    }
    return new MemberView(
        self == null ? "" : self.getAddress(),
        lastContact,
        snapshot == null ? -1 : snapshot.getIndex(),
        members);
  }
}

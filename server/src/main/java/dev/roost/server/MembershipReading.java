package dev.roost.server;

import dev.roost.api.Peers;
import dev.roost.proto.MemberProgress;
import dev.roost.proto.Role;
import java.util.ArrayList;
import java.util.Comparator;
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
 * The membership part of {@code /status}: this member's addresses, contact with the leader and
 * latest snapshot, and, on the leader, its view of every member. {@code roost cluster status}
 * builds its table from these, so plain users need no admin access to see the cluster.
 *
 * @param address this member's peer address in the configuration ("" before it is a member)
 * @param clientAddress this member's client address in the configuration ("" before it is a member)
 * @param lastContactMs on a follower or listener, milliseconds since it last heard from the leader;
 *     0 on the leader; -1 when unknown
 * @param snapshotIndex the log index of this member's latest snapshot, -1 if none
 * @param members on the leader, every member of the configuration with the leader's view of it;
 *     empty elsewhere
 */
record MembershipReading(
    String address,
    String clientAddress,
    long lastContactMs,
    long snapshotIndex,
    List<MemberProgress> members) {

  /** The control plane's role for Ratis' role name; unspecified for one it does not know. */
  static Role role(String ratisRole) {
    return switch (ratisRole) {
      case "LEADER" -> Role.LEADER;
      case "FOLLOWER" -> Role.FOLLOWER;
      case "CANDIDATE" -> Role.CANDIDATE;
      case "LISTENER" -> Role.LISTENER;
      default -> Role.ROLE_UNSPECIFIED;
    };
  }

  static MembershipReading read(RaftServer.Division d) {
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
    List<MemberProgress> members = new ArrayList<>();
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
              MemberProgress.newBuilder()
                  .setId(id)
                  .setAddress(p.getAddress())
                  .setClientAddress(Peers.clientAddress(p))
                  .setRole(leader ? Role.LEADER : role(r.name()))
                  .setCommitIndex(commits.getOrDefault(id, -1L))
                  .setLastContactMs(leader ? 0 : elapsed.getOrDefault(id, -1L))
                  .build());
        }
      }
      members.sort(Comparator.comparing(MemberProgress::getId));
    }
    return new MembershipReading(
        self == null ? "" : self.getAddress(),
        self == null ? "" : Peers.clientAddress(self),
        lastContact,
        snapshot == null ? -1 : snapshot.getIndex(),
        members);
  }
}

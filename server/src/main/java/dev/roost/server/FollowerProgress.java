package dev.roost.server;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;

/**
 * What a leader knows of one server it replicates to (a voter, a listener, or a server being
 * added).
 *
 * @param id the server's id
 * @param matchIndex the highest log index the leader knows the server holds
 * @param lastAnswerMs milliseconds since the server last answered one of the leader's requests
 *     (heartbeats included)
 */
record FollowerProgress(String id, long matchIndex, long lastAnswerMs) {

  /**
   * Reads every server {@code leader} replicates to, by id; empty when {@code leader} does not lead
   * (any more).
   *
   * <p>Ratis gives the answer times and the match indices in two arrays built from its list of log
   * appenders, in that list's order and without ids for the indices: they are paired by position.
   * An appender restarted between the two reads would reorder the list, so a caller acts only on
   * what several readings agree on.
   */
  static Map<String, FollowerProgress> of(RaftServer.Division leader) {
    DivisionInfo info = leader.getInfo();
    List<ServerRpcProto> answers = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
    long[] match = info.getFollowerMatchIndices();
    Map<String, FollowerProgress> out = new HashMap<>();
    if (match == null || match.length != answers.size()) {
      return out;
    }
    for (int i = 0; i < match.length; i++) {
      String id = answers.get(i).getId().getId().toStringUtf8();
      out.put(id, new FollowerProgress(id, match[i], answers.get(i).getLastRpcElapsedTimeMs()));
    }
    return out;
  }
}

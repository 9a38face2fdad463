package dev.roost.chaos.cluster;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where the nodes of a {@link ProcessCluster} live on the network: their addresses, how a node's
 * process is launched into its place, and how packets between nodes are dropped.
 */
interface Network extends AutoCloseable {

  /** The host address of the node's Raft, client and HTTP ports. */
  String host(String node);

  /** The node's Raft port. */
  int raftPort(String node);

  /** The node's client port. */
  int clientPort(String node);

  /** The node's HTTP port. */
  int httpPort(String node);

  /** The command that runs {@code command} in the node's place on the network. */
  List<String> wrap(String node, List<String> command);

  /** Whether {@link #cut} drops packets. */
  boolean supportsPartitions();

  /** Drops every packet from each key node to the nodes in its value; replaces earlier cuts. */
  void cut(Map<String, Set<String>> unreachable) throws IOException;

  /** Removes every cut. */
  void heal() throws IOException;

  /**
   * Why the nodes may be unable to reach each other, found by trying, when a cluster on this
   * network does not become ready: empty if nothing on the network explains it.
   */
  default Optional<String> diagnose() {
    return Optional.empty();
  }

  /** A one-line description. */
  String describe();

  /** Removes everything this network made. */
  @Override
  void close() throws IOException;
}

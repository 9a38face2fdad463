package dev.roost.api;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;

/**
 * The Raft group every Roost server and client belongs to, and the peer list syntax shared by
 * servers, clients, scripts and manifests: {@code n1=PEER/CLIENT,n2=PEER/CLIENT,...}.
 *
 * <p>Each member has two gRPC ports. Its peer address ({@code host:port}, {@link
 * RaftPeer#getAddress}) serves the server-to-server protocol (append entries, votes, snapshots) and
 * only the cluster's members may reach it. Its client address ({@link RaftPeer#getClientAddress})
 * serves Ratis' client protocol and Roost's write gateway. {@code CLIENT} is {@code host:port}, or
 * just {@code port} for the peer address's host. Servers need both for every member; a client may
 * be given {@code id=host:port} alone, its client address.
 */
public final class Peers {
  /** Roost runs one Raft group; its id is fixed so that servers and clients agree on it. */
  public static final RaftGroupId GROUP_ID =
      RaftGroupId.valueOf(UUID.fromString("524f4f53-5400-4000-8000-000000000001"));

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

  private Peers() {}

  /**
   * Parses {@code id=PEER[/CLIENT]} entries separated by commas; an entry without a client address
   * has none ({@link #clientAddress} is then its one address).
   *
   * @throws IllegalArgumentException naming the bad entry, if an entry is malformed, a port is out
   *     of range, or an id appears twice
   */
  public static List<RaftPeer> parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("peer list is empty; expected id=host:port/port,...");
    }
    List<RaftPeer> peers = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (String entry : spec.split(",")) {
      String e = entry.strip();
      int eq = e.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("bad peer '" + e + "': expected id=host:port");
      }
      String id = e.substring(0, eq);
      if (!ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            "bad peer id '" + id + "': use letters, digits, '_', '.', '-'");
      }
      RaftPeer peer = peer(id, e.substring(eq + 1));
      if (!ids.add(id)) {
        throw new IllegalArgumentException("peer id '" + id + "' appears twice");
      }
      peers.add(peer);
    }
    return List.copyOf(peers);
  }

  /**
   * The member {@code id} at {@code addresses}, {@code PEER[/CLIENT]} as in a peer list entry.
   *
   * @throws IllegalArgumentException naming the address, if it is malformed
   */
  public static RaftPeer peer(String id, String addresses) {
    int slash = addresses.indexOf('/');
    String address = slash < 0 ? addresses : addresses.substring(0, slash);
    checkAddress(address);
    RaftPeer.Builder b = RaftPeer.newBuilder().setId(id).setAddress(address);
    if (slash >= 0) {
      String client = addresses.substring(slash + 1);
      if (!client.contains(":")) {
        client = address.substring(0, address.lastIndexOf(':') + 1) + client;
      }
      checkAddress(client);
      if (client.equals(address)) {
        throw new IllegalArgumentException(
            "bad peer '"
                + id
                + "="
                + addresses
                + "': the client address must differ from the peer"
                + " address");
      }
      b.setClientAddress(client);
    }
    return b.build();
  }

  /** Where clients reach {@code peer}: its client address, else its only address. */
  public static String clientAddress(RaftPeer peer) {
    String client = peer.getClientAddress();
    return client == null || client.isEmpty() ? peer.getAddress() : client;
  }

  /** Whether {@code peer} has a client address of its own, apart from its peer address. */
  public static boolean hasClientAddress(RaftPeer peer) {
    return !clientAddress(peer).equals(peer.getAddress());
  }

  /** {@code peer}'s addresses as a peer list entry writes them: {@code PEER[/CLIENT]}. */
  public static String addresses(RaftPeer peer) {
    return hasClientAddress(peer)
        ? peer.getAddress() + "/" + clientAddress(peer)
        : peer.getAddress();
  }

  /** The Roost group made of {@code peers}. */
  public static RaftGroup group(List<RaftPeer> peers) {
    return RaftGroup.valueOf(GROUP_ID, peers);
  }

  /** Formats peers back into the {@code id=PEER/CLIENT,...} syntax. */
  public static String format(List<RaftPeer> peers) {
    return String.join(",", peers.stream().map(p -> p.getId() + "=" + addresses(p)).toList());
  }

  /**
   * Checks a {@code host:port} address.
   *
   * @throws IllegalArgumentException naming the address, if it is malformed
   */
  public static void checkAddress(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw new IllegalArgumentException("bad address '" + address + "': expected host:port");
    }
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port in '" + address + "'");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range in '" + address + "'");
    }
  }
}

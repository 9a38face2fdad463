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
 * servers, clients, scripts and manifests: {@code n1=host:port,n2=host:port,...}.
 */
public final class Peers {
  /** Roost runs one Raft group; its id is fixed so that servers and clients agree on it. */
  public static final RaftGroupId GROUP_ID =
      RaftGroupId.valueOf(UUID.fromString("524f4f53-5400-4000-8000-000000000001"));

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

  private Peers() {}

  /**
   * Parses {@code id=host:port} entries separated by commas.
   *
   * @throws IllegalArgumentException naming the bad entry, if an entry is malformed, a port is out
   *     of range, or an id appears twice
   */
  public static List<RaftPeer> parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("peer list is empty; expected id=host:port,...");
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
      String address = e.substring(eq + 1);
      if (!ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            "bad peer id '" + id + "': use letters, digits, '_', '.', '-'");
      }
      checkAddress(address);
      if (!ids.add(id)) {
        throw new IllegalArgumentException("peer id '" + id + "' appears twice");
      }
      peers.add(RaftPeer.newBuilder().setId(id).setAddress(address).build());
    }
    return List.copyOf(peers);
  }

  /** The Roost group made of {@code peers}. */
  public static RaftGroup group(List<RaftPeer> peers) {
    return RaftGroup.valueOf(GROUP_ID, peers);
  }

  /** Formats peers back into the {@code id=host:port,...} syntax. */
  public static String format(List<RaftPeer> peers) {
    return String.join(",", peers.stream().map(p -> p.getId() + "=" + p.getAddress()).toList());
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

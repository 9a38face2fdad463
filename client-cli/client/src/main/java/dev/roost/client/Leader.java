package dev.roost.client;

import java.util.Objects;

/**
 * The server a {@link RoostClient} now talks to, as passed to its leader-change listener.
 *
 * @param id the peer id, e.g. {@code n2}
 * @param address the peer's {@code host:port}, or {@code ""} if the client could not learn it (the
 *     server is not in the client's peer list and did not answer a group-info request)
 */
public record Leader(String id, String address) {
  public Leader {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(address, "address");
  }

  /** {@code host:port} when known, else the peer id: what to show a person. */
  public String display() {
    return address.isEmpty() ? id : address;
  }
}

package dev.roost.bench;

import dev.roost.client.ReadConsistency;
import dev.roost.client.RoostClient;
import dev.roost.client.Tls;
import java.time.Duration;

/** Roost through one {@link RoostClient}: writes and linearizable reads go to the leader. */
final class RoostConnection implements KvConnection {
  private final RoostClient client;

  /**
   * @param peers {@code id=host:port/port,...}, the peer and client addresses
   * @param tls how to reach them
   * @param writeGateway whether writes go through the leader's write gateway
   */
  RoostConnection(String peers, Tls tls, Duration timeout, boolean writeGateway) {
    this.client =
        RoostClient.builder()
            .peers(peers)
            .tls(tls)
            .deadline(timeout)
            .readConsistency(ReadConsistency.LINEARIZABLE)
            .writeGateway(writeGateway)
            .build();
  }

  static String key(int k) {
    return "bench/" + k;
  }

  @Override
  public void create(int k, byte[] value) {
    client.kvPut(key(k), value);
  }

  @Override
  public void put(int k, byte[] value) {
    client.kvPut(key(k), value);
  }

  @Override
  public void get(int k) {
    client.kvGet(key(k)); // a missing key is NOT_FOUND
  }

  @Override
  public void close() {
    client.close();
  }
}

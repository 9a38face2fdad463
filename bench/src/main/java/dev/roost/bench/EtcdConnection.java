package dev.roost.bench;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * etcd through one jetcd {@link Client} (one gRPC channel over all the endpoints, balanced by
 * jetcd): gets are linearizable, jetcd's default (no {@code serializable} option).
 */
final class EtcdConnection implements KvConnection {
  private final Client client;
  private final KV kv;
  private final long timeoutMillis;

  /**
   * @param endpoints {@code host:port,...} (or {@code http://host:port,...}), the client URLs
   */
  EtcdConnection(String endpoints, Duration timeout) {
    this.client = Client.builder().endpoints(urls(endpoints)).build();
    this.kv = client.getKVClient();
    this.timeoutMillis = timeout.toMillis();
  }

  static String[] urls(String endpoints) {
    return Arrays.stream(endpoints.split(","))
        .map(String::strip)
        .filter(e -> !e.isEmpty())
        .map(e -> e.contains("://") ? e : "http://" + e)
        .toArray(String[]::new);
  }

  static ByteSequence key(int k) {
    return ByteSequence.from("bench/" + k, StandardCharsets.UTF_8);
  }

  @Override
  public void create(int k, byte[] value) throws Exception {
    put(k, value);
  }

  @Override
  public void put(int k, byte[] value) throws Exception {
    kv.put(key(k), ByteSequence.from(value)).get(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  @Override
  public void get(int k) throws Exception {
    if (kv.get(key(k)).get(timeoutMillis, TimeUnit.MILLISECONDS).getKvs().isEmpty()) {
      throw new MissingKeyException(key(k).toString(StandardCharsets.UTF_8));
    }
  }

  @Override
  public void close() {
    client.close();
  }
}

package dev.roost.bench;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * ZooKeeper through one {@link ZooKeeper} handle, connected to one server of the connect string
 * (the client picks it at random): keys are znodes {@code /bench/k<i>}, a put is {@code setData}, a
 * get is {@code getData} answered by the connected server from its own state (ZooKeeper's reads are
 * local: sequentially consistent, not linearizable).
 */
final class ZooKeeperConnection implements KvConnection {
  static final String PARENT = "/bench";

  private final ZooKeeper zk;

  /**
   * @param connectString {@code host:port,...}, the client ports
   */
  ZooKeeperConnection(String connectString, Duration timeout)
      throws IOException, InterruptedException {
    ZKClientConfig config = new ZKClientConfig();
    config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
    CountDownLatch connected = new CountDownLatch(1);
    this.zk =
        new ZooKeeper(
            connectString,
            30_000,
            event -> {
              if (event.getState() == KeeperState.SyncConnected) {
                connected.countDown();
              }
            },
            config);
    if (!connected.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      zk.close();
      throw new IOException("could not connect to ZooKeeper at " + connectString);
    }
  }

  static String path(int k) {
    return PARENT + "/k" + k;
  }

  @Override
  public void create(int k, byte[] value) throws KeeperException, InterruptedException {
    try {
      zk.create(path(k), value, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    } catch (KeeperException.NodeExistsException e) {
      put(k, value);
    } catch (KeeperException.NoNodeException e) {
      try {
        zk.create(PARENT, new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
      } catch (KeeperException.NodeExistsException raced) {
        // another caller made it
      }
      create(k, value);
    }
  }

  @Override
  public void put(int k, byte[] value) throws KeeperException, InterruptedException {
    zk.setData(path(k), value, -1);
  }

  @Override
  public void get(int k) throws KeeperException, InterruptedException {
    zk.getData(path(k), false, null); // a missing znode is NoNodeException
  }

  @Override
  public void close() {
    try {
      zk.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

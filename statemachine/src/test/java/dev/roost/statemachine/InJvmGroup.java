package dev.roost.statemachine;

import dev.roost.api.Peers;
import dev.roost.domain.Limits;
import dev.roost.testkit.LoopbackPorts;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.ExitUtils;

/**
 * A real Ratis group of {@link RoostStateMachine}s over gRPC on loopback, in this JVM: the fixture
 * of the integration tests that need what only a real group shows (replication, elections,
 * snapshots, restarts) without separate processes.
 *
 * <p>Ratis calls System.exit when a server cannot start (a port in use, say), which would end the
 * test JVM with no report of which test failed: {@link #start} disables that, so a failed start
 * throws, and {@link #close} fails for any other exit Ratis asked for (an uncaught exception in one
 * of its threads).
 */
public final class InJvmGroup implements AutoCloseable {
  /** Builds a member's server from its builder: plainly, or with more services around it. */
  @FunctionalInterface
  public interface ServerFactory {
    RaftServer build(RaftServer.Builder builder, RoostStateMachine stateMachine) throws IOException;
  }

  /** Ratis' server and nothing more. */
  public static final ServerFactory PLAIN = (builder, stateMachine) -> builder.build();

  private final Path dir;
  private final List<RaftPeer> peers;
  private final RaftGroup group;
  private final RaftServer[] servers;
  private final Consumer<RaftProperties> tuning;
  private ServerFactory factory;

  private InJvmGroup(
      Path dir, List<RaftPeer> peers, Consumer<RaftProperties> tuning, ServerFactory factory) {
    this.dir = dir;
    this.peers = List.copyOf(peers);
    this.group = Peers.group(peers);
    this.servers = new RaftServer[peers.size()];
    this.tuning = tuning;
    this.factory = factory;
  }

  /**
   * Formats and starts a group of {@code size} members n0..n(size-1), each on a loopback port of
   * its own, with linearizable reads, their storage under {@code dir}.
   *
   * @param tuning more Raft properties, set on every member
   * @param factory how each member's server is built
   */
  public static InJvmGroup start(
      Path dir, int size, Consumer<RaftProperties> tuning, ServerFactory factory)
      throws IOException {
    ExitUtils.disableSystemExit();
    List<RaftPeer> peers = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      peers.add(
          RaftPeer.newBuilder()
              .setId("n" + i)
              .setAddress("127.0.0.1:" + LoopbackPorts.one())
              .build());
    }
    InJvmGroup g = new InJvmGroup(dir, peers, tuning, factory);
    try {
      for (int i = 0; i < size; i++) {
        g.servers[i] = g.startServer(i, RaftStorage.StartupOption.FORMAT);
      }
    } catch (IOException | RuntimeException e) {
      g.close();
      throw e;
    }
    return g;
  }

  public List<RaftPeer> peers() {
    return peers;
  }

  public RaftGroup group() {
    return group;
  }

  /** Member {@code i}'s server, or null while it is stopped. */
  public RaftServer server(int i) {
    return servers[i];
  }

  /** Member {@code i}'s state machine; the member must be running. */
  public RoostStateMachine stateMachine(int i) throws IOException {
    return (RoostStateMachine) servers[i].getDivision(Peers.GROUP_ID).getStateMachine();
  }

  /** Whether member {@code i} runs and is the leader, ready to serve. */
  public boolean isLeaderReady(int i) throws IOException {
    return servers[i] != null && servers[i].getDivision(Peers.GROUP_ID).getInfo().isLeaderReady();
  }

  /** How later {@link #restart}s build a member's server. */
  public void factory(ServerFactory factory) {
    this.factory = factory;
  }

  /** Closes member {@code i}'s server (as a crash of its process would, minus the disk). */
  public void stop(int i) throws IOException {
    RaftServer s = servers[i];
    servers[i] = null;
    if (s != null) {
      s.close();
    }
  }

  /** Stops member {@code i} if it runs, then starts it again on its storage (log and snapshots). */
  public void restart(int i) throws IOException {
    stop(i);
    servers[i] = startServer(i, RaftStorage.StartupOption.RECOVER);
  }

  private RaftServer startServer(int i, RaftStorage.StartupOption option) throws IOException {
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(
        p, List.of(dir.resolve(peers.get(i).getId().toString()).toFile()));
    GrpcConfigKeys.Server.setPort(p, Integer.parseInt(peers.get(i).getAddress().split(":")[1]));
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    tuning.accept(p);
    RoostStateMachine stateMachine = new RoostStateMachine(Limits.DEFAULT);
    RaftServer server =
        factory.build(
            RaftServer.newBuilder()
                .setServerId(peers.get(i).getId())
                .setGroup(group)
                .setStateMachine(stateMachine)
                .setProperties(p)
                .setOption(option),
            stateMachine);
    server.start();
    return server;
  }

  /**
   * Closes every member.
   *
   * @throws IllegalStateException if Ratis asked to end the JVM meanwhile
   */
  @Override
  public void close() throws IOException {
    for (int i = 0; i < servers.length; i++) {
      stop(i);
    }
    ExitUtils.ExitException exit = ExitUtils.getFirstExitException();
    ExitUtils.clear();
    if (exit != null) {
      throw new IllegalStateException("Ratis asked to end the JVM", exit);
    }
  }
}

package dev.roost.server;

import com.codahale.metrics.jmx.JmxReporter;
import dev.roost.api.Peers;
import dev.roost.domain.Limits;
import dev.roost.statemachine.RoostStateMachine;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The roost-server process: one member of a Roost cluster, that is a Ratis server running {@link
 * RoostStateMachine} in the Roost group, plus the HTTP endpoint ({@link HttpEndpoint}).
 *
 * <pre>
 * java -jar roost-server.jar --id n1 --peers n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003 \
 *     --data-dir /var/lib/roost/n1 --http 127.0.0.1:7101
 * </pre>
 *
 * <p>With {@code --join} the server starts outside the group: it holds the Roost group with no
 * members and no log, answers nobody, and waits until a leader adds it ({@code roost cluster add},
 * see {@link ClusterAdmin}) and sends it the log. A restart of a node that joined earlier recovers
 * the group from its data directory like any other restart.
 *
 * <p>Admin operations: Ratis serves its admin RPCs (set configuration, transfer leadership,
 * snapshots, group management) without any authentication, on the Raft port. Roost refuses every
 * one of them there ({@link RatisAdminRefusal}) and performs the operations in-process behind the
 * HTTP endpoint's {@code /admin/} paths, which need the {@code --admin-secret} ({@link
 * AdminEndpoint}). The Raft port itself (server-to-server replication and client requests) must
 * still be reachable only from the cluster's own network.
 *
 * <p>Settings are described in {@link ServerConfig}. Exit status: 2 with one line on stderr for a
 * configuration this node cannot start with (bad or missing setting, unknown peer id, data
 * directory not writable, Raft or HTTP port in use, a data directory lost while the cluster
 * remembers this member: {@link LostDiskGuard}); 1 if Ratis fails to start (the log has the
 * details); 143 after SIGTERM, once the shutdown hook has closed the HTTP endpoint and the Raft
 * server.
 */
public final class RoostServer {
  private static final Logger LOG = LoggerFactory.getLogger(RoostServer.class);

  /**
   * A system property that shifts this server's wall clock by that many milliseconds: fault
   * injection, for the tests of {@link PeerClocks}.
   */
  static final String CLOCK_OFFSET_PROPERTY = "roost.clock-offset-ms";

  private final ServerConfig config;
  private final HttpEndpoint http;
  private final RaftServer raft;
  private final AdminEndpoint admin;
  private final JmxReporter jmx;
  private final PeerClocks clocks;
  private final StallWatch stall;
  private final ReplicationWatch replication;

  /**
   * How Ratis, as configured, answers linearizable reads; read back from the properties it is given
   * rather than from our own config, so the start line says what Ratis will do.
   */
  private final String readPath;

  /** With leader leases on, how long to sit out before starting Raft (see {@link #start}). */
  private final long leaseWaitMillis;

  private RoostServer(ServerConfig config, HttpEndpoint http, RoostMetrics metrics)
      throws IOException {
    this.config = config;
    this.http = http;
    // Fault injection for tests and chaos runs: this member's wall clock, shifted.
    long clockOffsetMs = Long.getLong(CLOCK_OFFSET_PROPERTY, 0);
    this.clocks =
        new PeerClocks(config.id(), () -> System.currentTimeMillis() + clockOffsetMs, config.tls());
    // Every member starts from the same settings; the configured ones arrive through the log.
    RoostStateMachine stateMachine = new RoostStateMachine(Limits.DEFAULT, metrics, clocks::now);
    RaftProperties properties = config.tuning().toProperties();
    boolean leases = RaftServerConfigKeys.Read.leaderLeaseEnabled(properties);
    this.readPath =
        RaftServerConfigKeys.Read.option(properties) == RaftServerConfigKeys.Read.Option.DEFAULT
            ? "leader-local state (unsafe)"
            : leases ? "lease" : "read index";
    this.leaseWaitMillis =
        leases ? RaftServerConfigKeys.Rpc.timeoutMax(properties).toLong(TimeUnit.MILLISECONDS) : 0;
    this.raft =
        RoostGrpcServices.build(
            RaftServer.newBuilder()
                .setServerId(RaftPeerId.valueOf(config.id()))
                // Joining: the Roost group with no members, as Ratis' own tests add servers. The
                // division exists (so the leader's AppendEntries find it) but, in no configuration,
                // it never starts an election; the leader's log brings the real configuration.
                .setGroup(
                    config.join() ? RaftGroup.valueOf(Peers.GROUP_ID) : Peers.group(config.peers()))
                .setStateMachine(stateMachine)
                .setProperties(properties)
                // The default, FORMAT, fails once the storage directory exists: a restart must
                // recover the log and snapshots instead.
                .setOption(RaftStorage.StartupOption.RECOVER),
            stateMachine,
            metrics::gatewayEntry,
            clocks,
            config.tls());
    // Three election timeouts without an answer to the leader: down, for the removal check.
    Duration aliveWindow = config.electionTimeoutMax().multipliedBy(3);
    ClusterAdmin clusterAdmin = new ClusterAdmin(raft, aliveWindow, metrics::membershipAborted);
    SettingsAdmin settings = new SettingsAdmin(raft, stateMachine);
    stateMachine.onLeaderReady(() -> settings.bootstrap(config.limits()));
    this.admin =
        new AdminEndpoint(
            config.adminSecret(), clusterAdmin, settings, new AuthThrottle(System::nanoTime));
    metrics.watch(stateMachine::sizes, () -> RaftReading.of(raft));
    this.stall = new StallWatch(() -> RaftReading.of(raft), () -> System.nanoTime() / 1_000_000);
    metrics.watchStall(stall);
    this.replication =
        new ReplicationWatch(
            () -> ReplicationWatch.Reading.of(raft),
            () -> System.nanoTime() / 1_000_000,
            clusterAdmin::transfer,
            metrics::stuckFollower);
    metrics.watchClock(clocks);
    if (config.tls() != null) {
      metrics.watchCertificate(config.tls().notAfter());
    }
    this.jmx = metrics.jmxReporter();
  }

  /** Starts a server as configured by {@code args}, the config file and the environment. */
  public static void main(String[] args) {
    ServerConfig config;
    HttpEndpoint http;
    RoostMetrics metrics = new RoostMetrics();
    try {
      ParseResult parsed = ServerConfig.commandLine().parseArgs(args);
      if (CommandLine.printHelpIfRequested(parsed)) {
        return;
      }
      config = ServerConfig.resolve(ServerConfig.flags(parsed), System.getenv());
      Preflight.checkDataDir(config.dataDir());
      Preflight.checkLogFile(config.logFile());
      Preflight.checkPorts(config);
      if (config.tls() != null) {
        config.tls().check(java.time.Instant.now());
      }
      // Before the HTTP endpoint: Jetty logs as it starts, and unconfigured logback prints DEBUG.
      Logging.configure(config);
      LostDiskGuard.check(config);
      http = HttpEndpoint.start(config.http(), config.tls(), PrometheusExport.forServer(metrics));
    } catch (ParameterException e) {
      System.err.println("roost-server: " + e.getMessage() + " (see --help)");
      System.exit(2);
      return;
    } catch (ConfigException e) {
      System.err.println("roost-server: " + e.getMessage());
      System.exit(2);
      return;
    }

    try {
      RoostServer server = new RoostServer(config, http, metrics);
      Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "roost-shutdown"));
      server.start();
    } catch (Exception | LinkageError e) {
      // Exit rather than linger: the HTTP thread would keep a half-started process alive.
      LOG.error("could not start the Raft server", e);
      System.exit(1);
    }
  }

  private void start() throws IOException, InterruptedException {
    jmx.start();
    if (leaseWaitMillis > 0) {
      // A member that restarts has forgotten its leader and would vote for any candidate at
      // once, while that leader may still hold a lease counting on this member's promise not to
      // vote for a minimum election timeout after hearing from it. Sitting out one maximum
      // election timeout keeps the promise.
      LOG.info(
          "roost-server {}: leader leases on; waiting {} ms before starting Raft",
          config.id(),
          leaseWaitMillis);
      Thread.sleep(leaseWaitMillis);
    }
    raft.start();
    clocks.start(raft);
    stall.start();
    replication.start();
    http.attach(raft, stall);
    http.attachAdmin(admin);
    LOG.info(
        "roost-server {} started: peer {} (port {}), client {} (port {}), http {}:{}, data dir {},"
            + " reads by {}, peers {}",
        config.id(),
        config.self().getAddress(),
        config.raftPort(),
        Peers.clientAddress(config.self()),
        config.clientPort(),
        config.http().getHostString(),
        config.http().getPort(),
        config.dataDir(),
        readPath,
        config.join() ? "(joining: waiting to be added)" : Peers.format(config.peers()));
    if (config.tls() == null) {
      LOG.warn(
          "roost-server {}: --insecure: every port is plaintext and unauthenticated; anyone who"
              + " reaches the peer port {} can pose as a member. For experiments only.",
          config.id(),
          config.raftPort());
    } else {
      LOG.info(
          "roost-server {}: TLS on every port, mutual TLS between members; certificate {} expires"
              + " {}",
          config.id(),
          config.tls().cert(),
          config.tls().notAfter());
    }
    if (config.adminSecret() == null) {
      LOG.info("no --admin-secret: admin operations on {} are refused", config.id());
    }
  }

  /** Run by the shutdown hook: on SIGTERM, SIGINT, or an exit after a failed start. */
  private void stop() {
    http.close();
    admin.close();
    clocks.close();
    stall.close();
    replication.close();
    try {
      raft.close();
    } catch (IOException e) {
      LOG.warn("closing the Raft server failed", e);
    }
    jmx.close();
    LOG.info("roost-server {} stopped", config.id());
  }
}

package dev.roost.server;

import dev.roost.statemachine.Peers;
import dev.roost.statemachine.RoostStateMachine;
import java.io.IOException;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The roost-server process: one member of a Roost cluster, that is a Ratis server running {@link
 * RoostStateMachine} in the Roost group, plus the HTTP admin endpoint ({@link AdminHttp}).
 *
 * <pre>
 * java -jar roost-server.jar --id n1 --peers n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003 \
 *     --data-dir /var/lib/roost/n1 --http 127.0.0.1:7101
 * </pre>
 *
 * <p>Settings are described in {@link ServerConfig}. Exit status: 2 with one line on stderr for a
 * configuration this node cannot start with (bad or missing setting, unknown peer id, data
 * directory not writable, Raft or HTTP port in use); 1 if Ratis fails to start (the log has the
 * details); 143 after SIGTERM, once the shutdown hook has closed the HTTP endpoint and the Raft
 * server.
 */
public final class RoostServer {
  private static final Logger LOG = LoggerFactory.getLogger(RoostServer.class);

  private final ServerConfig config;
  private final AdminHttp http;
  private final RaftServer raft;

  private RoostServer(ServerConfig config, AdminHttp http) throws IOException {
    this.config = config;
    this.http = http;
    this.raft =
        RaftServer.newBuilder()
            .setServerId(RaftPeerId.valueOf(config.id()))
            .setGroup(Peers.group(config.peers()))
            .setStateMachine(new RoostStateMachine(config.limits()))
            .setProperties(config.tuning().toProperties())
            // The default, FORMAT, fails once the storage directory exists: a restart must
            // recover the log and snapshots instead.
            .setOption(RaftStorage.StartupOption.RECOVER)
            .build();
  }

  /** Starts a server as configured by {@code args}, the config file and the environment. */
  public static void main(String[] args) {
    ServerConfig config;
    AdminHttp http;
    try {
      ParseResult parsed = ServerConfig.commandLine().parseArgs(args);
      if (CommandLine.printHelpIfRequested(parsed)) {
        return;
      }
      config = ServerConfig.resolve(ServerConfig.flags(parsed), System.getenv());
      Preflight.checkDataDir(config.dataDir());
      Preflight.checkLogFile(config.logFile());
      Preflight.checkRaftPort(config);
      http = AdminHttp.start(config.http());
    } catch (ParameterException e) {
      System.err.println("roost-server: " + e.getMessage() + " (see --help)");
      System.exit(2);
      return;
    } catch (ConfigException e) {
      System.err.println("roost-server: " + e.getMessage());
      System.exit(2);
      return;
    }

    Logging.configure(config);
    try {
      RoostServer server = new RoostServer(config, http);
      Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "roost-shutdown"));
      server.start();
    } catch (Exception | LinkageError e) {
      // Exit rather than linger: the HTTP thread would keep a half-started process alive.
      LOG.error("could not start the Raft server", e);
      System.exit(1);
    }
  }

  private void start() throws IOException {
    raft.start();
    http.attach(raft);
    LOG.info(
        "roost-server {} started: raft {} (port {}), http {}:{}, data dir {}, peers {}",
        config.id(),
        config.self().getAddress(),
        config.raftPort(),
        config.http().getHostString(),
        config.http().getPort(),
        config.dataDir(),
        Peers.format(config.peers()));
  }

  /** Run by the shutdown hook: on SIGTERM, SIGINT, or an exit after a failed start. */
  private void stop() {
    http.close();
    try {
      raft.close();
    } catch (IOException e) {
      LOG.warn("closing the Raft server failed", e);
    }
    LOG.info("roost-server {} stopped", config.id());
  }
}

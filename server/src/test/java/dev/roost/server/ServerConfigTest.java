package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roost.domain.Quotas;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

class ServerConfigTest {
  private static final String PEERS =
      "n1=127.0.0.1:7001/7201,n2=127.0.0.1:7002/7202,n3=127.0.0.1:7003/7203";

  @TempDir Path tmp;

  /** The settings every node needs, as flags. */
  private static Map<String, String> minimal() {
    Map<String, String> flags = new HashMap<>();
    flags.put("id", "n1");
    flags.put("peers", PEERS);
    flags.put("data-dir", "/var/lib/roost/n1");
    flags.put("http", "127.0.0.1:7101");
    flags.put("insecure", "true");
    return flags;
  }

  private static Map<String, String> with(String name, String value) {
    Map<String, String> flags = minimal();
    flags.put(name, value);
    return flags;
  }

  private static Map<String, String> without(String name) {
    Map<String, String> flags = minimal();
    flags.remove(name);
    return flags;
  }

  private Path file(String content) throws IOException {
    return Files.writeString(tmp.resolve("roost.properties"), content);
  }

  private static String error(Map<String, String> flags, Map<String, String> env) {
    return assertThatThrownBy(() -> ServerConfig.resolve(flags, env))
        .isInstanceOf(ConfigException.class)
        .actual()
        .getMessage();
  }

  private static String error(Map<String, String> flags) {
    return error(flags, Map.of());
  }

  @Test
  void minimalConfigHasTheDocumentedDefaults() throws Exception {
    ServerConfig c = ServerConfig.resolve(minimal(), Map.of());

    assertThat(c.id()).isEqualTo("n1");
    assertThat(c.peers()).hasSize(3);
    assertThat(c.raftPort()).isEqualTo(7001);
    assertThat(c.http().getPort()).isEqualTo(7101);
    assertThat(c.dataDir()).isEqualTo(Path.of("/var/lib/roost/n1"));
    assertThat(c.logFile()).isEqualTo(Path.of("/var/lib/roost/n1/roost-n1.log"));
    assertThat(c.electionTimeoutMin()).isEqualTo(RaftTuning.DEFAULT_ELECTION_TIMEOUT_MIN);
    assertThat(c.electionTimeoutMax()).isEqualTo(RaftTuning.DEFAULT_ELECTION_TIMEOUT_MAX);
    assertThat(c.snapshotThreshold()).isEqualTo(RaftTuning.DEFAULT_SNAPSHOT_THRESHOLD);
    assertThat(c.limits().maxPostCodePoints()).isEqualTo(280);
    assertThat(c.limits().quotas()).isEqualTo(Quotas.DEFAULT);
    assertThat(c.logLevel()).isEqualTo("INFO");
    assertThat(c.raftLogLevel()).isEqualTo("WARN");
    assertThat(c.tuning().storageDir()).isEqualTo(Path.of("/var/lib/roost/n1/raft"));
    assertThat(c.reads()).isEqualTo(RaftTuning.ReadPath.READ_INDEX);
  }

  @Test
  void theUsageShowsEveryDescriptionAsWritten() {
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    java.io.PrintStream before = System.err;
    String usage;
    System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      usage = ServerConfig.commandLine().getUsageMessage();
    } finally {
      System.setErr(before);
    }

    // Picocli warned on stderr about "10%" in --read-lease's text and printed it unformatted.
    assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8)).isEmpty();
    assertThat(usage).contains("10% of").doesNotContain("%%");
  }

  @Test
  void quotasAreSetByFlags() throws Exception {
    Map<String, String> flags = with("max-users", "10");
    flags.put("max-posts", "20");
    flags.put("max-follow-edges", "30");
    flags.put("max-following", "4");
    flags.put("max-keys", "50");
    flags.put("max-kv-bytes", "60");

    assertThat(ServerConfig.resolve(flags, Map.of()).limits().quotas())
        .isEqualTo(new Quotas(10, 20, 30, 4, 50, 60));
    assertThat(error(with("max-following", "0")))
        .isEqualTo("--max-following: expected a positive integer, got '0'");
  }

  @Test
  void leaderLeasesAreChosenByFlagFileOrEnvironment() throws Exception {
    Map<String, String> bareFlag =
        ServerConfig.flags(ServerConfig.commandLine().parseArgs("--read-lease"));
    assertThat(bareFlag).containsEntry("read-lease", "true");

    assertThat(ServerConfig.resolve(with("read-lease", "true"), Map.of()).reads())
        .isEqualTo(RaftTuning.ReadPath.LEASE);
    assertThat(ServerConfig.resolve(minimal(), Map.of("ROOST_READ_LEASE", "true")).reads())
        .isEqualTo(RaftTuning.ReadPath.LEASE);
    assertThat(
            ServerConfig.resolve(with("read-lease", "false"), Map.of("ROOST_READ_LEASE", "true"))
                .reads())
        .isEqualTo(RaftTuning.ReadPath.READ_INDEX);
    assertThat(error(with("read-lease", "yes"))).contains("--read-lease").contains("'yes'");
  }

  @Test
  void unsafeStaleReadsAndLeasesExcludeEachOther() throws Exception {
    assertThat(ServerConfig.resolve(with("unsafe-stale-reads", "true"), Map.of()).reads())
        .isEqualTo(RaftTuning.ReadPath.UNSAFE_LEADER_LOCAL);
    Map<String, String> both = with("unsafe-stale-reads", "true");
    both.put("read-lease", "true");
    assertThat(error(both)).contains("--unsafe-stale-reads").contains("--read-lease");
  }

  @Test
  void flagsWinOverTheFileWhichWinsOverTheEnvironment() throws Exception {
    Path config =
        file(
            """
            snapshot-threshold=200
            max-post-length=300
            log-level=debug
            """);
    Map<String, String> flags = with("config", config.toString());
    flags.put("snapshot-threshold", "100");
    Map<String, String> env =
        Map.of(
            "ROOST_SNAPSHOT_THRESHOLD", "300",
            "ROOST_MAX_POST_LENGTH", "400",
            "ROOST_LOG_LEVEL", "ERROR",
            "ROOST_ELECTION_TIMEOUT_MAX", "5000");

    ServerConfig c = ServerConfig.resolve(flags, env);

    assertThat(c.snapshotThreshold()).isEqualTo(100); // flag over file and env
    assertThat(c.limits().maxPostCodePoints()).isEqualTo(300); // file over env
    assertThat(c.logLevel()).isEqualTo("DEBUG"); // file over env, case-insensitive
    assertThat(c.electionTimeoutMax()).isEqualTo(Duration.ofMillis(5000)); // env alone
  }

  @Test
  void everySettingCanComeFromTheEnvironmentAlone() throws Exception {
    Map<String, String> env =
        Map.of(
            "ROOST_ID", "n2",
            "ROOST_PEERS", PEERS,
            "ROOST_DATA_DIR", "/data",
            "ROOST_HTTP", "127.0.0.1:7102",
            "ROOST_LOG_FILE", "/logs/n2.log",
            "ROOST_TLS_CA", "/tls/ca.crt",
            "ROOST_TLS_CERT", "/tls/n2.crt",
            "ROOST_TLS_KEY", "/tls/n2.key");

    ServerConfig c = ServerConfig.resolve(Map.of(), env);

    assertThat(c.id()).isEqualTo("n2");
    assertThat(c.raftPort()).isEqualTo(7002);
    assertThat(c.logFile()).isEqualTo(Path.of("/logs/n2.log"));
    assertThat(c.tls())
        .isEqualTo(
            new TlsFiles(Path.of("/tls/ca.crt"), Path.of("/tls/n2.crt"), Path.of("/tls/n2.key")));
  }

  @Test
  void tlsIsOnUnlessInsecureAndNeedsAllThreeFiles() throws Exception {
    Map<String, String> secure = without("insecure");
    assertThat(error(secure))
        .isEqualTo(
            "TLS is on unless --insecure: --tls-ca, --tls-cert and --tls-key are required; make"
                + " them with `roost certs init` and `roost certs issue`");
    secure.put("tls-ca", "/tls/ca.crt");
    assertThat(error(secure)).contains("(missing: --tls-cert, --tls-key)");
    secure.put("tls-cert", "/tls/n1.crt");
    secure.put("tls-key", "/tls/n1.key");
    assertThat(ServerConfig.resolve(secure, Map.of()).tls().key())
        .isEqualTo(Path.of("/tls/n1.key"));
    assertThat(error(with("tls-ca", "/tls/ca.crt")))
        .isEqualTo("--tls-ca: cannot be combined with --insecure");
    assertThat(ServerConfig.resolve(minimal(), Map.of()).tls()).isNull();
  }

  @Test
  void theConfigFileCanBeNamedByTheEnvironment() throws Exception {
    Path config =
        file("id=n3\npeers=" + PEERS + "\ndata-dir=/d\nhttp=127.0.0.1:7103\ninsecure=true\n");

    ServerConfig c = ServerConfig.resolve(Map.of(), Map.of("ROOST_CONFIG", config.toString()));

    assertThat(c.id()).isEqualTo("n3");
  }

  @Test
  void blankValuesCountAsUnset() throws Exception {
    Map<String, String> flags = with("log-level", " ");

    ServerConfig c = ServerConfig.resolve(flags, Map.of("ROOST_LOG_LEVEL", "warn"));

    assertThat(c.logLevel()).isEqualTo("WARN");
  }

  @Test
  void missingRequiredSettingsNameTheFlagTheKeyAndTheVariable() {
    assertThat(error(without("id")))
        .isEqualTo("--id is required (or 'id' in the --config file, or ROOST_ID)");
    assertThat(error(without("peers"))).startsWith("--peers is required");
    assertThat(error(without("data-dir"))).startsWith("--data-dir is required");
    assertThat(error(without("http"))).startsWith("--http is required");
  }

  @Test
  void anIdOutsideThePeersIsAnUnknownPeerId() {
    assertThat(error(with("id", "n9")))
        .isEqualTo("--id: unknown peer id 'n9' (--peers has n1, n2, n3)");
  }

  @Test
  void malformedPeersAreReportedWithTheBadEntry() {
    assertThat(error(with("peers", "n1=127.0.0.1:7001/7201,n2")))
        .isEqualTo("--peers: bad peer 'n2': expected id=host:port");
    assertThat(error(with("peers", "n1=127.0.0.1:70001/7201")))
        .isEqualTo("--peers: port out of range in '127.0.0.1:70001'");
    assertThat(error(with("peers", "n1=127.0.0.1:7001/70001")))
        .isEqualTo("--peers: port out of range in '127.0.0.1:70001'");
    assertThat(error(with("peers", "n1=127.0.0.1:7001/7201,n1=127.0.0.1:7002/7202")))
        .isEqualTo("--peers: peer id 'n1' appears twice");
  }

  @Test
  void everyPeerNeedsAClientAddressApartFromItsPeerAddress() throws Exception {
    assertThat(error(with("peers", "n1=127.0.0.1:7001/7201,n2=127.0.0.1:7002")))
        .isEqualTo("--peers: peer 'n2' has no client address: write n2=127.0.0.1:7002/CLIENT_PORT");
    assertThat(error(with("peers", "n1=127.0.0.1:7001/7001")))
        .isEqualTo(
            "--peers: bad peer 'n1=127.0.0.1:7001/7001': the client address must differ from the"
                + " peer address");

    ServerConfig c =
        ServerConfig.resolve(with("peers", "n1=10.0.0.1:7001/10.0.1.1:9000"), Map.of());
    assertThat(c.raftPort()).isEqualTo(7001);
    assertThat(c.clientPort()).isEqualTo(9000);
    assertThat(c.tuning().peerBind()).isEqualTo(new RaftTuning.Bind("10.0.0.1", 7001));
    assertThat(c.tuning().clientBind()).isEqualTo(new RaftTuning.Bind("10.0.1.1", 9000));
  }

  @Test
  void aBadValueFromTheEnvironmentNamesTheVariable() {
    assertThat(error(minimal(), Map.of("ROOST_SNAPSHOT_THRESHOLD", "lots")))
        .isEqualTo(
            "--snapshot-threshold (from ROOST_SNAPSHOT_THRESHOLD): "
                + "expected a positive integer, got 'lots'");
  }

  @Test
  void aBadValueFromTheFileNamesTheFile() throws Exception {
    Path config = file("max-post-length=0\n");

    assertThat(error(with("config", config.toString())))
        .isEqualTo("--max-post-length (from " + config + "): expected a positive integer, got '0'");
  }

  @Test
  void badHttpAddressesAreRejected() {
    assertThat(error(with("http", "7101")))
        .isEqualTo("--http: bad address '7101': expected host:port");
    assertThat(error(with("http", "127.0.0.1:x"))).isEqualTo("--http: bad port in '127.0.0.1:x'");
    assertThat(error(with("http", "127.0.0.1:7001")))
        .isEqualTo("--http: port 7001 is also the Raft port of n1 in --peers");
    assertThat(error(with("http", "127.0.0.1:7201")))
        .isEqualTo("--http: port 7201 is also the client port of n1 in --peers");
  }

  @Test
  void numbersMustBePositive() {
    assertThat(error(with("election-timeout-min", "-5")))
        .isEqualTo("--election-timeout-min: expected a positive integer, got '-5'");
    assertThat(error(with("election-timeout-max", "1.5s")))
        .isEqualTo("--election-timeout-max: expected a positive integer, got '1.5s'");
    assertThat(error(with("snapshot-threshold", "0")))
        .isEqualTo("--snapshot-threshold: expected a positive integer, got '0'");
    assertThat(error(with("max-post-length", "3000000000")))
        .isEqualTo("--max-post-length: too large: 3000000000");
  }

  @Test
  void theElectionTimeoutRangeMustNotBeEmpty() {
    assertThat(error(with("election-timeout-min", "800")))
        .isEqualTo(
            "--election-timeout-max must be greater than --election-timeout-min"
                + " (got 600 ms and 800 ms)");
  }

  @Test
  void logLevelsAreChecked() {
    assertThat(error(with("log-level", "verbose")))
        .isEqualTo(
            "--log-level: unknown level 'verbose'; use TRACE, DEBUG, INFO, WARN, ERROR or OFF");
    assertThat(error(with("raft-log-level", "loud"))).startsWith("--raft-log-level: unknown level");
  }

  @Test
  void pathsMustBeValid() {
    assertThat(error(with("data-dir", "a\0b"))).startsWith("--data-dir: bad path");
    assertThat(error(with("log-file", "a\0b"))).startsWith("--log-file: bad path");
  }

  @Test
  void anUnreadableConfigFileIsReported() {
    Path missing = tmp.resolve("missing.properties");

    assertThat(error(with("config", missing.toString())))
        .isEqualTo("--config: cannot read '" + missing + "': no such file or directory");
  }

  @Test
  void unknownKeysInTheConfigFileAreRejected() throws Exception {
    Path config = file("data_dir=/d\n");

    assertThat(error(with("config", config.toString())))
        .isEqualTo("--config: unknown key 'data_dir' in '" + config + "'");
  }

  @Test
  void theCommandLineMapsFlagsToSettingNames() {
    CommandLine cli = ServerConfig.commandLine();

    Map<String, String> flags =
        ServerConfig.flags(cli.parseArgs("--id", "n1", "--data-dir=/d", "--log-level", "DEBUG"));

    assertThat(flags)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("id", "n1", "data-dir", "/d", "log-level", "DEBUG"));
  }

  @Test
  void theCommandLineRejectsUnknownAndRepeatedFlagsInOneLine() {
    assertThatThrownBy(() -> ServerConfig.commandLine().parseArgs("--nodes", "3"))
        .isInstanceOf(ParameterException.class)
        .hasMessage("Unknown options: '--nodes', '3'");
    assertThatThrownBy(() -> ServerConfig.commandLine().parseArgs("--id", "n1", "--id", "n2"))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("--id")
        .hasMessageContaining("only once");
  }
}

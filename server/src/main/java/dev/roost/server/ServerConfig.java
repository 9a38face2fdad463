package dev.roost.server;

import dev.roost.domain.Limits;
import dev.roost.statemachine.Peers;
import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.ratis.protocol.RaftPeer;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The validated settings of one roost-server process.
 *
 * <p>Every setting has one name, used in three places in this order of precedence: a flag ({@code
 * --data-dir DIR}), a key of the Java properties file given by {@code --config} ({@code
 * data-dir=DIR}), and an environment variable ({@code ROOST_DATA_DIR}). A blank value counts as
 * unset. Scripts, tests and Kubernetes manifests use the same names. {@link #resolve} reports the
 * first bad setting as a {@link ConfigException} whose message starts with the flag's name.
 *
 * @param id this node's id; its entry in {@code peers} gives the Raft port
 * @param peers the initial members of the group
 * @param dataDir the Raft log and snapshots live under {@code dataDir/raft}
 * @param http the address of the HTTP admin endpoint, unresolved
 * @param electionTimeoutMin lower bound of the randomized election timeout
 * @param electionTimeoutMax upper bound of the randomized election timeout
 * @param snapshotThreshold applied entries between two automatic snapshots
 * @param limits the state machine's limits (only the post length is configurable)
 * @param logLevel the level of Roost's own loggers and the root logger
 * @param raftLogLevel the level of Ratis' loggers, which are chatty below WARN
 * @param logFile the per-node log file
 */
public record ServerConfig(
    String id,
    List<RaftPeer> peers,
    Path dataDir,
    InetSocketAddress http,
    Duration electionTimeoutMin,
    Duration electionTimeoutMax,
    long snapshotThreshold,
    Limits limits,
    String logLevel,
    String raftLogLevel,
    Path logFile) {

  /** One named setting: a flag, a config file key and an environment variable. */
  record Setting(String name, String label, String description) {
    String flag() {
      return "--" + name;
    }

    String env() {
      return "ROOST_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
    }
  }

  private static final String CONFIG = "config";

  private static final Set<String> LEVELS =
      Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF");

  /** Every setting, in the order {@code --help} lists them. */
  static final List<Setting> SETTINGS =
      List.of(
          new Setting(CONFIG, "FILE", "Java properties file with the settings below, by name."),
          new Setting("id", "ID", "This node's id; must be one of the ids in --peers."),
          new Setting(
              "peers",
              "ID=HOST:PORT,...",
              "The initial members of the group. This node's entry gives its Raft port."),
          new Setting(
              "data-dir", "DIR", "Raft log and snapshots (under DIR/raft); created if missing."),
          new Setting("http", "HOST:PORT", "Address of the HTTP admin endpoint."),
          new Setting(
              "election-timeout-min",
              "MS",
              "Lower bound of the election timeout (default "
                  + RaftTuning.DEFAULT_ELECTION_TIMEOUT_MIN.toMillis()
                  + ")."),
          new Setting(
              "election-timeout-max",
              "MS",
              "Upper bound of the election timeout (default "
                  + RaftTuning.DEFAULT_ELECTION_TIMEOUT_MAX.toMillis()
                  + ")."),
          new Setting(
              "snapshot-threshold",
              "N",
              "Applied entries between automatic snapshots (default "
                  + RaftTuning.DEFAULT_SNAPSHOT_THRESHOLD
                  + ")."),
          new Setting(
              "max-post-length",
              "N",
              "Longest post in code points (default "
                  + Limits.DEFAULT.maxPostCodePoints()
                  + "); must be the same on every node."),
          new Setting(
              "log-level", "LEVEL", "TRACE, DEBUG, INFO, WARN, ERROR or OFF (default INFO)."),
          new Setting("raft-log-level", "LEVEL", "Level of Ratis' own loggers (default WARN)."),
          new Setting("log-file", "FILE", "Log file (default DIR/roost-ID.log)."));

  /**
   * The picocli parser for the flags. Every option is a string: conversion and validation happen in
   * {@link #resolve}, the same way for a flag, a file key and an environment variable.
   */
  static CommandLine commandLine() {
    String version =
        Objects.requireNonNullElse(
            ServerConfig.class.getPackage().getImplementationVersion(), "development build");
    CommandSpec spec =
        CommandSpec.create()
            .name("roost-server")
            .mixinStandardHelpOptions(true)
            .version("roost-server " + version);
    spec.usageMessage()
        .description("Runs one member of a Roost cluster.")
        .footer(
            "",
            "Each setting can also be a key of the --config file (data-dir=DIR) or an",
            "environment variable (ROOST_DATA_DIR). Flags win over the file, the file over",
            "the environment.",
            "Exit status: 2 for a configuration this node cannot start with.");
    for (Setting s : SETTINGS) {
      spec.addOption(
          OptionSpec.builder(s.flag())
              .paramLabel(s.label())
              .description(s.description())
              .type(String.class)
              .build());
    }
    return new CommandLine(spec);
  }

  /** The flags given on the command line, by setting name. */
  static Map<String, String> flags(ParseResult parsed) {
    Map<String, String> flags = new HashMap<>();
    for (OptionSpec o : parsed.matchedOptions()) {
      if (!o.usageHelp() && !o.versionHelp()) {
        flags.put(o.longestName().substring(2), o.getValue());
      }
    }
    return flags;
  }

  /**
   * Combines flags, the config file they (or {@code ROOST_CONFIG}) name, and the environment into
   * one validated configuration. Reads the config file but touches nothing else; the checks on the
   * machine (data dir writable, ports free) are in {@link Preflight}.
   *
   * @param flags flag values by setting name, without the leading dashes
   * @param env the process environment
   * @throws ConfigException for the first missing or bad setting, naming its flag
   */
  public static ServerConfig resolve(Map<String, String> flags, Map<String, String> env)
      throws ConfigException {
    Sources src = Sources.load(flags, env);

    Value peersValue = src.required("peers");
    List<RaftPeer> peers;
    try {
      peers = Peers.parse(peersValue.text());
    } catch (IllegalArgumentException e) {
      throw peersValue.error(e.getMessage());
    }

    Value idValue = src.required("id");
    String id = idValue.text();
    RaftPeer self =
        peers.stream()
            .filter(p -> p.getId().toString().equals(id))
            .findFirst()
            .orElseThrow(
                () ->
                    idValue.error(
                        "unknown peer id '"
                            + id
                            + "' (--peers has "
                            + peers.stream()
                                .map(p -> p.getId().toString())
                                .collect(Collectors.joining(", "))
                            + ")"));

    Path dataDir = path(src.required("data-dir"));
    InetSocketAddress http = httpAddress(src.required("http"), self);

    Duration timeoutMin =
        Duration.ofMillis(
            src.positive(
                "election-timeout-min", RaftTuning.DEFAULT_ELECTION_TIMEOUT_MIN.toMillis()));
    Duration timeoutMax =
        Duration.ofMillis(
            src.positive(
                "election-timeout-max", RaftTuning.DEFAULT_ELECTION_TIMEOUT_MAX.toMillis()));
    if (timeoutMax.compareTo(timeoutMin) <= 0) {
      throw new ConfigException(
          "--election-timeout-max must be greater than --election-timeout-min (got "
              + timeoutMax.toMillis()
              + " ms and "
              + timeoutMin.toMillis()
              + " ms)");
    }
    long snapshotThreshold =
        src.positive("snapshot-threshold", RaftTuning.DEFAULT_SNAPSHOT_THRESHOLD);
    long maxPost = src.positive("max-post-length", Limits.DEFAULT.maxPostCodePoints());
    if (maxPost > Integer.MAX_VALUE) {
      throw src.get("max-post-length").error("too large: " + maxPost);
    }
    Limits limits = Limits.DEFAULT.withMaxPostCodePoints((int) maxPost);
    String logLevel = src.level("log-level", "INFO");
    String raftLogLevel = src.level("raft-log-level", "WARN");
    Value logFileValue = src.get("log-file");
    Path logFile =
        logFileValue == null ? dataDir.resolve("roost-" + id + ".log") : path(logFileValue);

    return new ServerConfig(
        id,
        peers,
        dataDir,
        http,
        timeoutMin,
        timeoutMax,
        snapshotThreshold,
        limits,
        logLevel,
        raftLogLevel,
        logFile);
  }

  /** This node's entry in {@link #peers}. */
  public RaftPeer self() {
    return peers.stream().filter(p -> p.getId().toString().equals(id)).findFirst().orElseThrow();
  }

  /** The port Ratis binds: the one in this node's peer entry. */
  public int raftPort() {
    return port(self().getAddress());
  }

  /** The Ratis settings for this node. */
  public RaftTuning tuning() {
    return new RaftTuning(
        dataDir.resolve("raft"),
        raftPort(),
        electionTimeoutMin,
        electionTimeoutMax,
        snapshotThreshold);
  }

  private static InetSocketAddress httpAddress(Value v, RaftPeer self) throws ConfigException {
    try {
      Peers.checkAddress(v.text());
    } catch (IllegalArgumentException e) {
      throw v.error(e.getMessage());
    }
    int port = port(v.text());
    if (port == port(self.getAddress())) {
      throw v.error("port " + port + " is also the Raft port of " + self.getId() + " in --peers");
    }
    // Resolved when the endpoint binds (AdminHttp.start): a name lookup is a check of the
    // machine, not of the configuration.
    return InetSocketAddress.createUnresolved(
        v.text().substring(0, v.text().lastIndexOf(':')), port);
  }

  private static int port(String hostPort) {
    return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
  }

  private static Path path(Value v) throws ConfigException {
    try {
      return Path.of(v.text()).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      throw v.error("bad path '" + v.text() + "': " + e.getReason());
    }
  }

  /**
   * The text of one setting and where it came from.
   *
   * @param origin empty for a flag, else {@code " (from ...)"} naming the file or variable
   */
  private record Value(String name, String text, String origin) {
    ConfigException error(String problem) {
      return new ConfigException("--" + name + origin + ": " + problem);
    }
  }

  /** The three sources of settings, looked up in order of precedence. */
  private record Sources(
      Map<String, String> flags, Map<String, String> file, Path fileName, Map<String, String> env) {

    static Sources load(Map<String, String> flags, Map<String, String> env) throws ConfigException {
      Sources withoutFile = new Sources(flags, Map.of(), null, env);
      Value config = withoutFile.get(CONFIG);
      if (config == null) {
        return withoutFile;
      }
      Path fileName = path(config);
      Properties props = new Properties();
      try (Reader in = Files.newBufferedReader(fileName, StandardCharsets.UTF_8)) {
        props.load(in);
      } catch (IOException | IllegalArgumentException e) {
        throw config.error("cannot read '" + fileName + "': " + Preflight.reason(e));
      }
      Set<String> known =
          SETTINGS.stream()
              .map(Setting::name)
              .filter(n -> !n.equals(CONFIG))
              .collect(Collectors.toSet());
      Map<String, String> file = new HashMap<>();
      for (String key : props.stringPropertyNames()) {
        if (!known.contains(key)) {
          throw config.error("unknown key '" + key + "' in '" + fileName + "'");
        }
        file.put(key, props.getProperty(key));
      }
      return new Sources(flags, file, fileName, env);
    }

    /** The setting's value from the first source that has it, or null. */
    Value get(String name) {
      Setting setting = setting(name);
      String flag = flags.get(name);
      if (flag != null && !flag.isBlank()) {
        return new Value(name, flag.strip(), "");
      }
      String key = file.get(name);
      if (key != null && !key.isBlank()) {
        return new Value(name, key.strip(), " (from " + fileName + ")");
      }
      String var = env.get(setting.env());
      if (var != null && !var.isBlank()) {
        return new Value(name, var.strip(), " (from " + setting.env() + ")");
      }
      return null;
    }

    Value required(String name) throws ConfigException {
      Value v = get(name);
      if (v == null) {
        Setting s = setting(name);
        throw new ConfigException(
            s.flag() + " is required (or '" + name + "' in the --config file, or " + s.env() + ")");
      }
      return v;
    }

    long positive(String name, long fallback) throws ConfigException {
      Value v = get(name);
      if (v == null) {
        return fallback;
      }
      try {
        long n = Long.parseLong(v.text());
        if (n >= 1) {
          return n;
        }
      } catch (NumberFormatException e) {
        // reported below, like a number below one
      }
      throw v.error("expected a positive integer, got '" + v.text() + "'");
    }

    String level(String name, String fallback) throws ConfigException {
      Value v = get(name);
      if (v == null) {
        return fallback;
      }
      String level = v.text().toUpperCase(Locale.ROOT);
      if (!LEVELS.contains(level)) {
        throw v.error(
            "unknown level '" + v.text() + "'; use TRACE, DEBUG, INFO, WARN, ERROR or OFF");
      }
      return level;
    }

    private static Setting setting(String name) {
      return SETTINGS.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }
  }
}

package dev.roost.server;

import dev.roost.api.Peers;
import dev.roost.domain.Limits;
import dev.roost.domain.Quotas;
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
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
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
 * @param id this node's id; its entry in {@code peers} gives its peer and client ports
 * @param peers the initial members of the group: {@code --peers}, or the pods of {@code
 *     --statefulset}; a StatefulSet pod beyond the initial members adds its own entry and joins
 * @param statefulSet whether the members are a StatefulSet's pods ({@code --statefulset}): then the
 *     ports bind every interface
 * @param dataDir the Raft log and snapshots live under {@code dataDir/raft}
 * @param http the address of the HTTP endpoint ({@link HttpEndpoint}), unresolved
 * @param electionTimeoutMin lower bound of the randomized election timeout
 * @param electionTimeoutMax upper bound of the randomized election timeout
 * @param snapshotThreshold applied entries between two automatic snapshots
 * @param limits the settings this server submits when it first leads a cluster whose settings were
 *     never set (post length and quotas; see {@link SettingsAdmin})
 * @param logLevel the level of Roost's own loggers and the root logger
 * @param raftLogLevel the level of Ratis' loggers, which are chatty below WARN
 * @param logFile the per-node log file
 * @param join whether this node starts outside the group and waits to be added to it ({@code
 *     --join}); only its own entry of {@code peers} is used, for its Raft address
 * @param adminSecret the credential of the {@code /admin/} HTTP operations, or null: then every
 *     admin operation is refused
 * @param reads how the leader confirms its leadership for a linearizable read: by read index, or by
 *     lease with {@code --read-lease}; test only, from the hidden flag {@code
 *     --unsafe-stale-reads}, not at all (see {@link RaftTuning.ReadPath})
 * @param tls the TLS files of every port, or null with {@code --insecure}: plaintext
 */
public record ServerConfig(
    String id,
    List<RaftPeer> peers,
    boolean statefulSet,
    Path dataDir,
    InetSocketAddress http,
    Duration electionTimeoutMin,
    Duration electionTimeoutMax,
    long snapshotThreshold,
    Limits limits,
    String logLevel,
    String raftLogLevel,
    Path logFile,
    boolean join,
    AdminSecret adminSecret,
    RaftTuning.ReadPath reads,
    TlsFiles tls) {

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
  private static final String STATEFULSET = "statefulset";
  private static final String SERVICE = "service";
  private static final String REPLICAS = "replicas";
  private static final String RAFT_PORT = "raft-port";
  private static final String CLIENT_PORT = "client-port";
  private static final String TLS_CA = "tls-ca";
  private static final String TLS_CERT = "tls-cert";
  private static final String TLS_KEY = "tls-key";
  private static final String INSECURE = "insecure";
  private static final String READ_LEASE = "read-lease";

  /** The settings that describe the members as a StatefulSet, instead of {@code --peers}. */
  private static final List<String> STATEFULSET_SETTINGS =
      List.of(STATEFULSET, SERVICE, REPLICAS, RAFT_PORT, CLIENT_PORT);

  /** The Raft port of every member of a StatefulSet unless {@code --raft-port} says otherwise. */
  static final int DEFAULT_RAFT_PORT = 7001;

  /**
   * The client port of every member of a StatefulSet unless {@code --client-port} says otherwise.
   */
  static final int DEFAULT_CLIENT_PORT = 7002;

  /** More members than this is a typo: every write waits for a majority of them. */
  private static final int MAX_REPLICAS = 99;

  private static final Set<String> LEVELS =
      Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF");

  /** Every setting, in the order {@code --help} lists them. */
  static final List<Setting> SETTINGS =
      List.of(
          new Setting(CONFIG, "FILE", "Java properties file with the settings below, by name."),
          new Setting("id", "ID", "This node's id; must be one of the ids in --peers."),
          new Setting(
              "peers",
              "ID=HOST:PORT/PORT,...",
              "The initial members of the group, each as ID=PEER/CLIENT: its peer address (Raft"
                  + " between members) and its client address (HOST:PORT, or PORT on the peer"
                  + " address's host). This node binds the two addresses of its own entry."),
          new Setting(
              STATEFULSET,
              "NAME",
              "Instead of --peers, on Kubernetes: the members are the StatefulSet NAME's pods"
                  + " NAME-0 .. NAME-(N-1) of --replicas, at NAME-i.SERVICE (--service) with"
                  + " --raft-port and --client-port, bound on every interface; --id is then the"
                  + " pod's name."),
          new Setting(SERVICE, "SERVICE", "With --statefulset: the headless Service's DNS name."),
          new Setting(REPLICAS, "N", "With --statefulset: the initial number of members."),
          new Setting(
              RAFT_PORT,
              "PORT",
              "With --statefulset: every member's Raft port (default " + DEFAULT_RAFT_PORT + ")."),
          new Setting(
              CLIENT_PORT,
              "PORT",
              "With --statefulset: every member's client port (default "
                  + DEFAULT_CLIENT_PORT
                  + ")."),
          new Setting(
              "data-dir", "DIR", "Raft log and snapshots (under DIR/raft); created if missing."),
          new Setting(
              "http", "HOST:PORT", "Address of the HTTP endpoint: probes, status, metrics, admin."),
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
                  + "). This and the quotas below are a new cluster's settings, taken from its"
                  + " first leader; later, roost cluster settings changes them for all members."),
          new Setting(
              "max-users",
              "N",
              "Quota of registered users (default " + Quotas.DEFAULT.users() + ")."),
          new Setting("max-posts", "N", "Quota of posts (default " + Quotas.DEFAULT.posts() + ")."),
          new Setting(
              "max-follow-edges",
              "N",
              "Quota of follow edges (default " + Quotas.DEFAULT.followEdges() + ")."),
          new Setting(
              "max-following",
              "N",
              "Accounts one user may follow (default " + Quotas.DEFAULT.followingPerUser() + ")."),
          new Setting("max-keys", "N", "Quota of keys (default " + Quotas.DEFAULT.keys() + ")."),
          new Setting(
              "max-kv-bytes",
              "N",
              "Quota of key and value bytes (default " + Quotas.DEFAULT.kvBytes() + ")."),
          new Setting(
              READ_LEASE,
              "true|false",
              "Answer linearizable reads under a leader lease instead of a heartbeat round"
                  + " (default false). Assumes the members' clocks run at rates within 10% of"
                  + " each other; a server then waits one --election-timeout-max before it starts"
                  + " Raft. Set it the same on every node."),
          new Setting(
              "log-level", "LEVEL", "TRACE, DEBUG, INFO, WARN, ERROR or OFF (default INFO)."),
          new Setting("raft-log-level", "LEVEL", "Level of Ratis' own loggers (default WARN)."),
          new Setting("log-file", "FILE", "Log file (default DIR/roost-ID.log)."),
          new Setting(
              "join",
              "true|false",
              "Start outside the group and wait to be added by `roost cluster add` (default"
                  + " false). Only this node's entry of --peers is used."),
          new Setting(
              "admin-secret",
              "SECRET",
              "Shared secret of the admin operations (add, remove, transfer, snapshot); at least "
                  + AdminSecret.MIN_LENGTH
                  + " characters. Without it they are refused. Prefer ROOST_ADMIN_SECRET or the"
                  + " --config file: a flag shows in the process list."),
          new Setting(
              TLS_CA,
              "FILE",
              "The cluster CA's certificate (PEM): peers must present a certificate it signed."
                  + " TLS is on unless --insecure; make the files with `roost certs init` and"
                  + " `roost certs issue`."),
          new Setting(
              TLS_CERT,
              "FILE",
              "This node's certificate (PEM), signed by the CA, with its addresses as subject"
                  + " alternative names."),
          new Setting(TLS_KEY, "FILE", "This node's private key (PEM, PKCS#8)."),
          new Setting(
              INSECURE,
              "true|false",
              "Plaintext on every port, and no member authentication: anyone who reaches the"
                  + " peer port can pose as a member. For experiments only (default false)."));

  private static final String UNSAFE_STALE_READS = "unsafe-stale-reads";

  /** Settings given as a bare flag ({@code --join}) meaning {@code true}. */
  private static final Set<String> BOOLEANS = Set.of("join", READ_LEASE, INSECURE);

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
      OptionSpec.Builder option =
          OptionSpec.builder(s.flag())
              .paramLabel(s.label())
              // Picocli reads a description as a format string; ours are plain text.
              .description(s.description().replace("%", "%%"))
              .type(String.class);
      if (BOOLEANS.contains(s.name())) {
        option.arity("0..1").fallbackValue("true");
      }
      spec.addOption(option.build());
    }
    // Test only, for the chaos suite's proof that it catches stale reads: hidden from --help, a
    // flag only (no file key, no environment variable) so it cannot be set by accident.
    spec.addOption(
        OptionSpec.builder("--" + UNSAFE_STALE_READS)
            .type(String.class)
            .arity("0..1")
            .fallbackValue("true")
            .hidden(true)
            .build());
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

    Optional<StatefulSet> statefulSet = statefulSet(src);
    Value idValue = src.required("id");
    String id = idValue.text();
    // A pod beyond a StatefulSet's initial members (it was scaled up) is in no configuration yet:
    // it starts as with --join, at its own stable address, and waits to be added.
    Optional<RaftPeer> addedPod =
        statefulSet.isEmpty() ? Optional.empty() : statefulSet.get().addedPod(id);
    List<RaftPeer> peers =
        statefulSet.isEmpty()
            ? parsePeers(src.get("peers"))
            : Stream.concat(statefulSet.get().initialPeers().stream(), addedPod.stream()).toList();
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
    long maxFollowing = src.positive("max-following", Quotas.DEFAULT.followingPerUser());
    if (maxFollowing > Integer.MAX_VALUE) {
      throw src.get("max-following").error("too large: " + maxFollowing);
    }
    Quotas quotas =
        new Quotas(
            src.positive("max-users", Quotas.DEFAULT.users()),
            src.positive("max-posts", Quotas.DEFAULT.posts()),
            src.positive("max-follow-edges", Quotas.DEFAULT.followEdges()),
            (int) maxFollowing,
            src.positive("max-keys", Quotas.DEFAULT.keys()),
            src.positive("max-kv-bytes", Quotas.DEFAULT.kvBytes()));
    Limits limits = Limits.DEFAULT.withMaxPostCodePoints((int) maxPost).withQuotas(quotas);
    String logLevel = src.level("log-level", "INFO");
    String raftLogLevel = src.level("raft-log-level", "WARN");
    Value logFileValue = src.get("log-file");
    Path logFile =
        logFileValue == null ? dataDir.resolve("roost-" + id + ".log") : path(logFileValue);
    boolean join = src.bool("join") || addedPod.isPresent();
    Value secretValue = src.get("admin-secret");
    AdminSecret adminSecret = null;
    if (secretValue != null) {
      try {
        adminSecret = AdminSecret.of(secretValue.text());
      } catch (IllegalArgumentException e) {
        throw secretValue.error(e.getMessage());
      }
    }

    return new ServerConfig(
        id,
        peers,
        statefulSet.isPresent(),
        dataDir,
        http,
        timeoutMin,
        timeoutMax,
        snapshotThreshold,
        limits,
        logLevel,
        raftLogLevel,
        logFile,
        join,
        adminSecret,
        reads(src, flags),
        tls(src));
  }

  private static TlsFiles tls(Sources src) throws ConfigException {
    List<String> given =
        Stream.of(TLS_CA, TLS_CERT, TLS_KEY).filter(name -> src.get(name) != null).toList();
    if (src.bool(INSECURE)) {
      if (!given.isEmpty()) {
        throw src.get(given.get(0)).error("cannot be combined with --insecure");
      }
      return null;
    }
    if (given.size() < 3) {
      throw new ConfigException(
          "TLS is on unless --insecure: --tls-ca, --tls-cert and --tls-key are required"
              + (given.isEmpty() ? "" : " (missing: --" + missing(given) + ")")
              + "; make them with `roost certs init` and `roost certs issue`");
    }
    return new TlsFiles(path(src.get(TLS_CA)), path(src.get(TLS_CERT)), path(src.get(TLS_KEY)));
  }

  private static String missing(List<String> given) {
    return String.join(
        ", --",
        Stream.of(TLS_CA, TLS_CERT, TLS_KEY).filter(name -> !given.contains(name)).toList());
  }

  private static RaftTuning.ReadPath reads(Sources src, Map<String, String> flags)
      throws ConfigException {
    boolean lease = src.bool(READ_LEASE);
    if (!"true".equals(flags.get(UNSAFE_STALE_READS))) {
      return lease ? RaftTuning.ReadPath.LEASE : RaftTuning.ReadPath.READ_INDEX;
    }
    if (lease) {
      throw new ConfigException("--unsafe-stale-reads and --read-lease exclude each other");
    }
    return RaftTuning.ReadPath.UNSAFE_LEADER_LOCAL;
  }

  /**
   * The members as a StatefulSet's pods: {@code NAME-i} at {@code NAME-i.SERVICE:PORT}, the stable
   * DNS name a headless Service gives each pod.
   *
   * @param replicas the initial members are the ordinals below this
   */
  private record StatefulSet(
      Value name, String service, long replicas, long port, long clientPort) {
    static final Pattern POD = Pattern.compile("(.+)-(0|[1-9][0-9]{0,8})");

    String peer(long ordinal) {
      String pod = name.text() + "-" + ordinal;
      return pod + "=" + pod + "." + service + ":" + port + "/" + clientPort;
    }

    List<RaftPeer> initialPeers() throws ConfigException {
      StringBuilder spec = new StringBuilder();
      for (long i = 0; i < replicas; i++) {
        spec.append(i == 0 ? "" : ",").append(peer(i));
      }
      return parse(spec.toString());
    }

    /**
     * The entry of pod {@code id} if it is one of this StatefulSet's pods beyond the initial
     * members (the StatefulSet was scaled up), else empty.
     */
    Optional<RaftPeer> addedPod(String id) throws ConfigException {
      Matcher m = POD.matcher(id);
      if (!m.matches() || !m.group(1).equals(name.text())) {
        return Optional.empty();
      }
      long ordinal = Long.parseLong(m.group(2));
      return ordinal < replicas ? Optional.empty() : Optional.of(parse(peer(ordinal)).get(0));
    }

    private List<RaftPeer> parse(String spec) throws ConfigException {
      try {
        return Peers.parse(spec);
      } catch (IllegalArgumentException e) {
        throw name.error(e.getMessage());
      }
    }
  }

  /**
   * The StatefulSet described by {@code --statefulset}, {@code --service}, {@code --replicas} and
   * {@code --raft-port}, or empty when the members come from {@code --peers}.
   */
  private static Optional<StatefulSet> statefulSet(Sources src) throws ConfigException {
    Value peers = src.get("peers");
    Value set = src.get(STATEFULSET);
    if (peers != null) {
      for (String name : STATEFULSET_SETTINGS) {
        Value v = src.get(name);
        if (v != null) {
          throw v.error("cannot be combined with --peers");
        }
      }
      return Optional.empty();
    }
    if (set == null) {
      throw new ConfigException(
          "--peers is required (or 'peers' in the --config file, or ROOST_PEERS), or"
              + " --statefulset with --service and --replicas");
    }
    String service = src.required(SERVICE).text();
    src.required(REPLICAS);
    long replicas = src.positive(REPLICAS, 1);
    if (replicas > MAX_REPLICAS) {
      throw src.get(REPLICAS).error("at most " + MAX_REPLICAS + ", got " + replicas);
    }
    long port = src.positive(RAFT_PORT, DEFAULT_RAFT_PORT);
    if (port > 65535) {
      throw src.get(RAFT_PORT).error("port out of range: " + port);
    }
    long clientPort = src.positive(CLIENT_PORT, DEFAULT_CLIENT_PORT);
    if (clientPort > 65535 || clientPort == port) {
      throw src.get(CLIENT_PORT)
          .error(
              clientPort == port
                  ? "must differ from the Raft port " + port
                  : "port out of range: " + clientPort);
    }
    return Optional.of(new StatefulSet(set, service, replicas, port, clientPort));
  }

  private static List<RaftPeer> parsePeers(Value v) throws ConfigException {
    List<RaftPeer> peers;
    try {
      peers = Peers.parse(v.text());
    } catch (IllegalArgumentException e) {
      throw v.error(e.getMessage());
    }
    // Members refuse clients on their peer port, so a member without a client address could
    // never be reached by one, nor named to one as the leader.
    for (RaftPeer p : peers) {
      if (!Peers.hasClientAddress(p)) {
        throw v.error(
            "peer '"
                + p.getId()
                + "' has no client address: write "
                + p.getId()
                + "="
                + p.getAddress()
                + "/CLIENT_PORT");
      }
    }
    return peers;
  }

  /** This node's entry in {@link #peers}. */
  public RaftPeer self() {
    return peers.stream().filter(p -> p.getId().toString().equals(id)).findFirst().orElseThrow();
  }

  /** The port of this node's peer address: Raft between members. */
  public int raftPort() {
    return port(self().getAddress());
  }

  /** The port of this node's client address. */
  public int clientPort() {
    return port(Peers.clientAddress(self()));
  }

  /**
   * The host the peer and client ports bind: the host of this node's own entry, or every interface
   * in a StatefulSet's pod (its own network namespace, where the pod's DNS name may not resolve
   * before the pod is ready).
   */
  private String bindHost(String address) {
    return statefulSet ? null : address.substring(0, address.lastIndexOf(':'));
  }

  /** The Ratis settings for this node. */
  public RaftTuning tuning() {
    return new RaftTuning(
        dataDir.resolve("raft"),
        new RaftTuning.Bind(bindHost(self().getAddress()), raftPort()),
        new RaftTuning.Bind(bindHost(Peers.clientAddress(self())), clientPort()),
        electionTimeoutMin,
        electionTimeoutMax,
        snapshotThreshold,
        reads);
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
    if (port == port(Peers.clientAddress(self))) {
      throw v.error("port " + port + " is also the client port of " + self.getId() + " in --peers");
    }
    // Resolved when the endpoint binds (HttpEndpoint.start): a name lookup is a check of the
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

    boolean bool(String name) throws ConfigException {
      Value v = get(name);
      if (v == null) {
        return false;
      }
      return switch (v.text().toLowerCase(Locale.ROOT)) {
        case "true" -> true;
        case "false" -> false;
        default -> throw v.error("expected true or false, got '" + v.text() + "'");
      };
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

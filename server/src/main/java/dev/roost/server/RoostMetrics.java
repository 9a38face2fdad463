package dev.roost.server;

import com.codahale.metrics.CachedGauge;
import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.SlidingTimeWindowArrayReservoir;
import com.codahale.metrics.Timer;
import com.codahale.metrics.jmx.JmxReporter;
import dev.roost.proto.Command.OpCase;
import dev.roost.proto.Query.QCase;
import dev.roost.proto.StatusCode;
import dev.roost.statemachine.RoostStateMachine;
import dev.roost.statemachine.RoostStateMachine.StateSizes;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Roost's own metrics, in one Dropwizard {@link MetricRegistry} (which JMX reports as is), and the
 * Prometheus family and labels of each. It is the {@link RoostStateMachine.Observer} of this
 * server's state machine, and reads gauges from the state machine and the Raft member on demand.
 *
 * <p>Prometheus names (docs/operations.md, "Metrics", lists them): {@code
 * roost_commands_total{op,code}} commands applied by this member; {@code
 * roost_command_latency_seconds{op}} from accept on the leader to apply; {@code
 * roost_commands_rejected_total{op,code}} refused before the log; {@code
 * roost_queries_total{query,code}} and {@code roost_query_duration_seconds{query}}; {@code
 * roost_errors_total{code}} errors that this member answered a client with; {@code
 * roost_gateway_writes_total} and {@code roost_gateway_entries_total}, what the write gateway put
 * into the log; {@code roost_membership_aborted_total} and {@code
 * roost_raft_stuck_followers_total}, what the watchdogs did; snapshot, state size and Raft member
 * gauges.
 *
 * <p>The observer callbacks run inside the write and read paths: a metric for a label combination
 * is made on its first use, then found by array index, so a callback allocates nothing (but the
 * timer's sample).
 */
final class RoostMetrics implements RoostStateMachine.Observer {
  /**
   * The Prometheus family, help text and labels of one Dropwizard metric.
   *
   * @param family the family name; a counter's without {@code _total}
   */
  record Series(String family, String help, Labels labels) {}

  private static final OpCase[] OPS = OpCase.values();
  private static final QCase[] QUERIES = QCase.values();
  private static final StatusCode[] CODES = StatusCode.values();

  /**
   * How far back the latency quantiles look. A sliding window rather than Dropwizard's default
   * exponentially decaying reservoir: it allocates far less per sample, and a scrape every 15 to 60
   * s sees the latencies of about that period.
   */
  private static final long WINDOW_SECONDS = 60;

  private final MetricRegistry registry = new MetricRegistry();
  private final Map<String, Series> series = new ConcurrentHashMap<>();

  private final Counter[][] applied = new Counter[OPS.length][CODES.length];
  private final Counter[][] rejected = new Counter[OPS.length][CODES.length];
  private final Timer[] latency = new Timer[OPS.length];
  private final Counter[][] queries = new Counter[QUERIES.length][CODES.length];
  private final Timer[] queryDuration = new Timer[QUERIES.length];
  private final Counter[] errors = new Counter[CODES.length];
  private final Counter snapshots;
  private final Counter gatewayWrites;
  private final Counter gatewayEntries;
  private final Counter membershipAborted;
  private final Counter stuckFollowers;
  private final Timer snapshotDuration;
  private volatile long lastSnapshotBytes;

  RoostMetrics() {
    snapshots =
        register(
            "roost.snapshots",
            new Counter(),
            new Series("roost_snapshots", "Snapshots taken by this member.", Labels.EMPTY));
    snapshotDuration =
        register(
            "roost.snapshots.duration",
            timer(),
            new Series(
                "roost_snapshot_duration_seconds",
                "Time to write, force and record one snapshot.",
                Labels.EMPTY));
    gatewayWrites =
        register(
            "roost.gateway.writes",
            new Counter(),
            new Series(
                "roost_gateway_writes",
                "Writes this member's write gateway submitted to the log (as leader).",
                Labels.EMPTY));
    gatewayEntries =
        register(
            "roost.gateway.entries",
            new Counter(),
            new Series(
                "roost_gateway_entries",
                "Log entries those writes took: writes / entries is how many share an entry.",
                Labels.EMPTY));
    membershipAborted =
        register(
            "roost.membership.aborted",
            new Counter(),
            new Series(
                "roost_membership_aborted",
                "Server additions this member, as leader, abandoned because the new server did not"
                    + " answer or catch up in time; the configuration stayed as it was.",
                Labels.EMPTY));
    stuckFollowers =
        register(
            "roost.raft.stuck-followers",
            new Counter(),
            new Series(
                "roost_raft_stuck_followers",
                "Members this member, as leader, found answering but taking no entries for "
                    + ReplicationWatch.BOUND.toSeconds()
                    + " s; it then moved leadership to another voter.",
                Labels.EMPTY));
    gauge(
        "roost.snapshots.last-size",
        "roost_snapshot_size_bytes",
        "Size of the newest snapshot this member took.",
        () -> lastSnapshotBytes);
    // Every operation's success series exists from the start, at 0, so that a rate over a
    // series' first increments is right and dashboards list every operation. Failure codes
    // appear when they first happen.
    for (OpCase op : OPS) {
      if (op != OpCase.OP_NOT_SET) {
        lazy(applied, op.ordinal(), StatusCode.OK.ordinal(), this::newApplied);
        lazy(latency, op.ordinal(), this::newLatency);
      }
    }
    for (QCase query : QUERIES) {
      if (query != QCase.Q_NOT_SET) {
        lazy(queries, query.ordinal(), StatusCode.OK.ordinal(), this::newQueries);
        lazy(queryDuration, query.ordinal(), this::newQueryDuration);
      }
    }
  }

  /** The registry holding every Roost metric. */
  MetricRegistry registry() {
    return registry;
  }

  /**
   * A reporter that publishes every Roost metric as a JMX MBean in the domain {@code roost} once
   * started. Ratis publishes its own registries under {@code ratis} by itself.
   */
  JmxReporter jmxReporter() {
    return JmxReporter.forRegistry(registry)
        .inDomain("roost")
        .convertDurationsTo(TimeUnit.MILLISECONDS)
        .build();
  }

  /** The Prometheus family and labels of the Dropwizard metric named {@code name}, if any. */
  Optional<Series> series(String name) {
    return Optional.ofNullable(series.get(name));
  }

  /**
   * Registers the gauges that read the state machine and this Raft member. Call once, after the
   * state machine exists; the member reading is empty until Ratis runs and once it closes the
   * group, and its gauges then read nothing.
   *
   * @param sizes reads the state's sizes; called at most once a second
   * @param member reads this member's Raft state; called at most once a second
   */
  void watch(Supplier<StateSizes> sizes, Supplier<Optional<RaftReading>> member) {
    CachedGauge<StateSizes> cachedSizes =
        new CachedGauge<>(1, TimeUnit.SECONDS) {
          @Override
          protected StateSizes loadValue() {
            return sizes.get();
          }
        };
    sizeGauge("users", "Registered users.", cachedSizes, StateSizes::users);
    sizeGauge("follow_edges", "Follow relations.", cachedSizes, StateSizes::followEdges);
    sizeGauge("posts", "Posts.", cachedSizes, StateSizes::posts);
    sizeGauge("keys", "Keys in the key-value map.", cachedSizes, StateSizes::keys);
    sizeGauge(
        "sessions",
        "Client sessions open; one growing fast means clients churn sessions.",
        cachedSizes,
        StateSizes::sessions);

    CachedGauge<Optional<RaftReading>> cachedMember =
        new CachedGauge<>(1, TimeUnit.SECONDS) {
          @Override
          protected Optional<RaftReading> loadValue() {
            return member.get();
          }
        };
    memberGauge("term", "roost_raft_term", "Current Raft term.", cachedMember, RaftReading::term);
    memberGauge(
        "leader",
        "roost_raft_is_leader",
        "1 while this member is the leader, else 0.",
        cachedMember,
        m -> m.role().equals("LEADER") ? 1 : 0);
    memberGauge(
        "commit-index",
        "roost_raft_commit_index",
        "This member's commit index.",
        cachedMember,
        RaftReading::commitIndex);
    memberGauge(
        "applied-index",
        "roost_raft_applied_index",
        "The last log index this member's state machine applied.",
        cachedMember,
        RaftReading::appliedIndex);
    memberGauge(
        "apply-lag",
        "roost_raft_apply_lag_entries",
        "Committed entries this member has not applied yet (commit index - applied index).",
        cachedMember,
        m -> Math.max(0, m.commitIndex() - m.appliedIndex()));
    memberGauge(
        "behind-leader",
        "roost_raft_behind_leader_entries",
        "Entries the leader had committed that this member has not applied, as far as it knows.",
        cachedMember,
        m -> m.leaderCommitIndex() < 0 ? 0 : Math.max(0, m.leaderCommitIndex() - m.appliedIndex()));
    memberGauge(
        "ready",
        "roost_raft_ready",
        "1 while /ready answers 200, else 0.",
        cachedMember,
        m -> m.notReadyReason().isEmpty() ? 1 : 0);
  }

  /** Reports whether {@code stall} finds this member stuck. */
  void watchStall(StallWatch stall) {
    gauge(
        "roost.raft.stalled",
        "roost_raft_stalled",
        "1 while this member is stuck: behind its leader with nothing applied for "
            + StallWatch.BOUND.toSeconds()
            + " s (/health fails meanwhile), else 0.",
        () -> stall.stalled().isPresent() ? 1 : 0);
  }

  /** Reports how far this member's clock runs ahead of the majority's ({@link PeerClocks}). */
  void watchClock(PeerClocks clocks) {
    gauge(
        "roost.clock.ahead",
        "roost_clock_ahead_of_majority_ms",
        "How far this member's wall clock runs ahead of the time a majority of the voters' clocks"
            + " agree on (negative: behind); absent until enough of them were read. Over 1000, a"
            + " leader stamps writes with the majority's time.",
        () -> {
          OptionalLong ahead = clocks.aheadOfMajorityMs();
          return ahead.isPresent() ? (Object) (double) ahead.getAsLong() : null;
        });
  }

  /**
   * Registers the gauge of when this member's TLS certificate expires, read from the file it
   * started with (certificates are rotated by a restart).
   */
  void watchCertificate(java.time.Instant notAfter) {
    gauge(
        "roost.tls.certificate-expiration",
        "roost_tls_certificate_expiration_timestamp_seconds",
        "When this member's TLS certificate expires, in seconds since the epoch; renew it and"
            + " restart the member before then (docs/security.md).",
        () -> (double) notAfter.getEpochSecond());
  }

  private void sizeGauge(
      String name, String help, Gauge<StateSizes> sizes, ToDoubleFunction<StateSizes> value) {
    gauge(
        "roost.state." + name,
        "roost_state_" + name,
        help,
        () -> value.applyAsDouble(sizes.getValue()));
  }

  private void memberGauge(
      String name,
      String family,
      String help,
      Gauge<Optional<RaftReading>> member,
      ToDoubleFunction<RaftReading> value) {
    // A gauge with no member to read reports nothing rather than a made-up number.
    gauge(
        "roost.raft." + name,
        family,
        help,
        () -> member.getValue().map(m -> (Object) value.applyAsDouble(m)).orElse(null));
  }

  private void gauge(String name, String family, String help, Gauge<?> gauge) {
    register(name, gauge, new Series(family, help, Labels.EMPTY));
  }

  /** An addition of a server was abandoned ({@link ClusterAdmin}). */
  void membershipAborted() {
    membershipAborted.inc();
  }

  /** The leader found a member stuck ({@link ReplicationWatch}). */
  void stuckFollower() {
    stuckFollowers.inc();
  }

  /** The write gateway submitted one entry carrying {@code writes} writes. */
  void gatewayEntry(int writes) {
    gatewayEntries.inc();
    gatewayWrites.inc(writes);
  }

  @Override
  public void commandRejected(OpCase op, StatusCode code) {
    lazy(rejected, op.ordinal(), code.ordinal(), this::newRejected).inc();
    error(code);
  }

  @Override
  public void commandApplied(OpCase op, StatusCode code, long nanosSinceAccept) {
    lazy(applied, op.ordinal(), code.ordinal(), this::newApplied).inc();
    if (nanosSinceAccept >= 0) {
      lazy(latency, op.ordinal(), this::newLatency).update(nanosSinceAccept, TimeUnit.NANOSECONDS);
      if (code != StatusCode.OK) {
        error(code);
      }
    }
  }

  @Override
  public void queryServed(QCase query, StatusCode code, long nanos) {
    lazy(queries, query.ordinal(), code.ordinal(), this::newQueries).inc();
    lazy(queryDuration, query.ordinal(), this::newQueryDuration)
        .update(nanos, TimeUnit.NANOSECONDS);
    if (code != StatusCode.OK) {
      error(code);
    }
  }

  @Override
  public void snapshotTaken(long bytes, long nanos) {
    snapshots.inc();
    snapshotDuration.update(nanos, TimeUnit.NANOSECONDS);
    lastSnapshotBytes = bytes;
  }

  private void error(StatusCode code) {
    lazy(errors, code.ordinal(), this::newError).inc();
  }

  private Counter newApplied(int op, int code) {
    return register(
        "roost.commands." + label(OPS[op]) + "." + CODES[code].name(),
        new Counter(),
        new Series(
            "roost_commands",
            "Commands this member applied, by operation and outcome.",
            Labels.of("op", label(OPS[op]), "code", CODES[code].name())));
  }

  private Counter newRejected(int op, int code) {
    return register(
        "roost.commands.rejected." + label(OPS[op]) + "." + CODES[code].name(),
        new Counter(),
        new Series(
            "roost_commands_rejected",
            "Commands this member refused as leader before they entered the log.",
            Labels.of("op", label(OPS[op]), "code", CODES[code].name())));
  }

  private Timer newLatency(int op) {
    return register(
        "roost.commands.latency." + label(OPS[op]),
        timer(),
        new Series(
            "roost_command_latency_seconds",
            "Time from accepting a command as leader to applying it (leader only).",
            Labels.of("op", label(OPS[op]))));
  }

  private Counter newQueries(int query, int code) {
    return register(
        "roost.queries." + label(QUERIES[query]) + "." + CODES[code].name(),
        new Counter(),
        new Series(
            "roost_queries",
            "Queries this member answered, by kind and outcome.",
            Labels.of("query", label(QUERIES[query]), "code", CODES[code].name())));
  }

  private Timer newQueryDuration(int query) {
    return register(
        "roost.queries.duration." + label(QUERIES[query]),
        timer(),
        new Series(
            "roost_query_duration_seconds",
            "Time to evaluate a query against this member's state.",
            Labels.of("query", label(QUERIES[query]))));
  }

  private Counter newError(int code) {
    return register(
        "roost.errors." + CODES[code].name(),
        new Counter(),
        new Series(
            "roost_errors",
            "Errors this member answered a client with, by code (refusals, failed commands it"
                + " accepted, failed queries).",
            Labels.of("code", CODES[code].name())));
  }

  /** {@code none} for a command or query that could not be parsed, else the lower-case kind. */
  private static String label(Enum<?> kind) {
    return kind == OpCase.OP_NOT_SET || kind == QCase.Q_NOT_SET
        ? "none"
        : kind.name().toLowerCase(Locale.ROOT);
  }

  private static Timer timer() {
    return new Timer(new SlidingTimeWindowArrayReservoir(WINDOW_SECONDS, TimeUnit.SECONDS));
  }

  private <M extends Metric> M register(String name, M metric, Series s) {
    series.put(name, s);
    return registry.register(name, metric);
  }

  // The tables are read without a lock. A racing reader sees either null, and takes the lock, or a
  // complete metric: Dropwizard metrics keep their state behind final fields, which the Java
  // memory model guarantees initialized to any thread that sees the reference (JLS 17.5).

  private interface Make2<M> {
    M make(int i, int j);
  }

  private <M> M lazy(M[][] table, int i, int j, Make2<M> make) {
    M m = table[i][j];
    if (m != null) {
      return m;
    }
    synchronized (this) {
      if (table[i][j] == null) {
        table[i][j] = make.make(i, j);
      }
      return table[i][j];
    }
  }

  private <M> M lazy(M[] table, int i, IntFunction<M> make) {
    M m = table[i];
    if (m != null) {
      return m;
    }
    synchronized (this) {
      if (table[i] == null) {
        table[i] = make.apply(i);
      }
      return table[i];
    }
  }
}

package dev.roost.server;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.impl.RatisMetricRegistryImpl;
import org.apache.ratis.thirdparty.com.codahale.metrics.Counter;
import org.apache.ratis.thirdparty.com.codahale.metrics.Gauge;
import org.apache.ratis.thirdparty.com.codahale.metrics.Metric;
import org.apache.ratis.thirdparty.com.codahale.metrics.MetricRegistry;
import org.apache.ratis.thirdparty.com.codahale.metrics.Snapshot;
import org.apache.ratis.thirdparty.com.codahale.metrics.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exports Ratis' own metrics in Prometheus form, read from Ratis' registries at every scrape.
 *
 * <p>{@code ratis-metrics-default} keeps one registry per member and component ({@code server},
 * {@code leader_election}, {@code log_worker}, {@code log_appender}, {@code state_machine}, and
 * gRPC's {@code log_appender}) in {@link MetricRegistries#global()}, each a Dropwizard registry of
 * its own shaded copy of Dropwizard. Those classes are not Roost's Dropwizard classes, so neither
 * Roost's registry nor the Prometheus client's Dropwizard bridge can hold them: this collector
 * converts them itself. Registries come and go with leadership (the appender metrics exist only on
 * the leader); reading at scrape time follows them without listeners.
 *
 * <p>Names: {@code <application>_<component>_<metric in snake case>}, with a follower's or peer's
 * id moved from the Ratis name into a {@code follower} or {@code peer} label; timers become
 * summaries in seconds ({@code _seconds}), counters drop a trailing {@code _count} and gain {@code
 * _total}, and the {@code ...ElapsedTime} gauges become {@code _seconds}. The per-RPC-method gRPC
 * message counters are left out. This member's own id is not a label: one process is one member,
 * and Prometheus' {@code instance} label already names it.
 */
final class RatisMetricsBridge implements MultiCollector {
  private static final Logger LOG = LoggerFactory.getLogger(RatisMetricsBridge.class);

  /**
   * A Ratis metric name that embeds a peer id.
   *
   * @param component {@code <application>_<component>} of the registries it applies to
   * @param pattern the short metric name, with the id as group 1
   * @param name the metric name without the id, in snake case
   * @param label the label that gets the id
   */
  private record Rule(String component, Pattern pattern, String name, String label) {
    static Rule of(String component, String regex, String name, String label) {
      return new Rule(component, Pattern.compile(regex), name, label);
    }

    /** The Ratis name with the id replaced by a placeholder, for help texts. */
    String template() {
      return pattern.pattern().replace("-?", "").replaceAll("\\(\\.[+*]\\)", "<" + label + ">");
    }

    /**
     * The label value in a matching name. Ratis leaves the default replication level (MAJORITY) out
     * of the watch metrics' names and writes the others as {@code -ALL}, and so on.
     */
    String value(Matcher m) {
      return m.group(1).isEmpty() ? "MAJORITY" : m.group(1);
    }
  }

  /**
   * Where Ratis 3.3 puts an id into a metric name (RaftServerMetricsImpl, LogAppenderMetrics, ...).
   */
  private static final List<Rule> RULES =
      List.of(
          Rule.of("ratis_server", "(.+)_peerCommitIndex", "peer_commit_index", "peer"),
          Rule.of(
              "ratis_server",
              "(.+)_lastHeartbeatElapsedTime",
              "follower_last_heartbeat_elapsed_time",
              "follower"),
          Rule.of(
              "ratis_log_appender", "follower_(.+)_next_index", "follower_next_index", "follower"),
          Rule.of(
              "ratis_log_appender",
              "follower_(.+)_match_index",
              "follower_match_index",
              "follower"),
          Rule.of(
              "ratis_log_appender",
              "follower_(.+)_rpc_response_time",
              "follower_rpc_response_time",
              "follower"),
          grpc("latency"),
          grpc("latency_heartbeat"),
          grpc("success_reply_count"),
          grpc("success_reply_count_heartbeat"),
          grpc("not_leader_reply_count"),
          grpc("inconsistency_reply_count"),
          grpc("append_entry_timeout_count"),
          grpc("append_entry_timeout_count_heartbeat"),
          grpc("pending_log_requests_count"),
          Rule.of("ratis_log_worker", "(.+)ExecutionTime", "task_execution_time", "task"),
          Rule.of(
              "ratis_server", "clientWatch-?(.*)Request", "client_watch_request", "replication"),
          Rule.of(
              "ratis_server",
              "numWatch-?(.*)RequestQueueLimitHits",
              "num_watch_request_queue_limit_hits",
              "replication"),
          Rule.of(
              "ratis_server",
              "numWatch-?(.*)RequestInQueue",
              "num_watch_request_in_queue",
              "replication"),
          Rule.of(
              "ratis_server",
              "numWatch-?(.*)RequestTimeout",
              "num_watch_request_timeout",
              "replication"));

  private static Rule grpc(String metric) {
    return Rule.of("ratis_grpc_log_appender", "(.+)_" + metric, metric, "follower");
  }

  private static final double NANOS_PER_SECOND = 1e9;

  private final Supplier<Collection<RatisMetricRegistry>> registries;

  /** A bridge for the registries of {@link MetricRegistries#global()}. */
  RatisMetricsBridge() {
    this(() -> MetricRegistries.global().getMetricRegistries());
  }

  /** A bridge for the registries {@code registries} supplies at each scrape. */
  RatisMetricsBridge(Supplier<Collection<RatisMetricRegistry>> registries) {
    this.registries = registries;
  }

  @Override
  public MetricSnapshots collect() {
    MetricFamilies families = new MetricFamilies();
    for (RatisMetricRegistry r : registries.get()) {
      MetricRegistryInfo info = r.getMetricRegistryInfo();
      if (!(r instanceof RatisMetricRegistryImpl impl)
          || info.getMetricsComponentName().endsWith("_message_metrics")) {
        continue;
      }
      String component = snake(info.getApplicationName() + "_" + info.getMetricsComponentName());
      String prefix =
          MetricRegistry.name(
                  info.getApplicationName(), info.getMetricsComponentName(), info.getPrefix())
              + ".";
      for (Map.Entry<String, Metric> e :
          impl.getDropWizardMetricRegistry().getMetrics().entrySet()) {
        String shortName =
            e.getKey().startsWith(prefix) ? e.getKey().substring(prefix.length()) : e.getKey();
        try {
          add(families, component, shortName, e.getValue(), info.getMetricsDescription());
        } catch (RuntimeException ex) {
          // A gauge of a closing member can throw; one metric must not fail the whole scrape.
          LOG.debug("skipped Ratis metric {}: {}", e.getKey(), ex.toString());
        }
      }
    }
    return families.build();
  }

  private static void add(
      MetricFamilies families, String component, String shortName, Metric metric, String help) {
    String name = snake(shortName);
    String ratisName = shortName;
    Labels labels = Labels.EMPTY;
    for (Rule rule : RULES) {
      Matcher m;
      if (rule.component.equals(component) && (m = rule.pattern.matcher(shortName)).matches()) {
        name = rule.name;
        ratisName = rule.template();
        labels = Labels.of(rule.label, rule.value(m));
        break;
      }
    }
    String family = PrometheusNaming.sanitizeMetricName(component + "_" + name);
    String description = "Ratis " + ratisName + ": " + help;
    if (metric instanceof Counter c) {
      families.counter(
          family.endsWith("_count") ? family.substring(0, family.length() - 6) : family,
          description,
          labels,
          c.getCount());
    } else if (metric instanceof Timer t) {
      Snapshot s = t.getSnapshot();
      families.summary(
          family + "_seconds",
          description,
          labels,
          t.getCount(),
          q -> s.getValue(q) / NANOS_PER_SECOND);
    } else if (metric instanceof Gauge<?> g && g.getValue() instanceof Number n) {
      if (family.endsWith("_elapsed_time")) {
        // Ratis 3.3 records the follower heartbeat gauge in nanoseconds (LeaderStateImpl), the
        // leader election ones in milliseconds. -1 (never) stays -1.
        double perSecond = name.equals("follower_last_heartbeat_elapsed_time") ? 1e9 : 1e3;
        double value = n.doubleValue();
        families.gauge(
            family + "_seconds", description, labels, value < 0 ? -1 : value / perSecond);
      } else {
        families.gauge(
            family.replace("_size_in_bytes", "_size_bytes"), description, labels, n.doubleValue());
      }
    }
  }

  /** {@code appendEntryLatency} to {@code append_entry_latency}. */
  static String snake(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }
}

package dev.roost.server;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Metric;
import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;

/**
 * The {@code /metrics} document: Roost's Dropwizard metrics ({@link RoostMetrics}), Ratis' own
 * ({@link RatisMetricsBridge}) and the JVM's, in the Prometheus text format written by the
 * Prometheus Java client. The families of the three sources have distinct prefixes ({@code roost_},
 * {@code ratis_}, {@code jvm_}/{@code process_}), which the client requires.
 */
final class PrometheusExport {
  private static final double NANOS_PER_SECOND = 1e9;

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

  /**
   * An export of {@code roost} and {@code ratis}.
   *
   * @param jvm whether to add the JVM's metrics (memory, GC, threads, CPU)
   */
  PrometheusExport(RoostMetrics roost, MultiCollector ratis, boolean jvm) {
    registry.register((MultiCollector) () -> collect(roost));
    registry.register(ratis);
    if (jvm) {
      JvmMetrics.builder().register(registry);
    }
  }

  /** The export a server serves: Roost, Ratis' global registries, and the JVM. */
  static PrometheusExport forServer(RoostMetrics roost) {
    return new PrometheusExport(roost, new RatisMetricsBridge(), true);
  }

  /** The media type of {@link #scrape}. */
  String contentType() {
    return writer.getContentType();
  }

  /** Every metric, now, in the text format. */
  byte[] scrape() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    writer.write(out, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
    return out.toByteArray();
  }

  private static MetricSnapshots collect(RoostMetrics roost) {
    MetricFamilies families = new MetricFamilies();
    for (Map.Entry<String, Metric> e : roost.registry().getMetrics().entrySet()) {
      roost.series(e.getKey()).ifPresent(s -> add(families, s, e.getValue()));
    }
    return families.build();
  }

  private static void add(MetricFamilies families, RoostMetrics.Series s, Metric metric) {
    if (metric instanceof Counter c) {
      families.counter(s.family(), s.help(), s.labels(), c.getCount());
    } else if (metric instanceof Timer t) {
      Snapshot snapshot = t.getSnapshot();
      families.summary(
          s.family(),
          s.help(),
          s.labels(),
          t.getCount(),
          q -> snapshot.getValue(q) / NANOS_PER_SECOND);
    } else if (metric instanceof Gauge<?> g && g.getValue() instanceof Number n) {
      families.gauge(s.family(), s.help(), s.labels(), n.doubleValue());
    }
  }
}

package dev.roost.server;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot.SummaryDataPointSnapshot;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Supplier;

/**
 * Collects the samples of one scrape into Prometheus metric families, grouping by family name so
 * that several Dropwizard metrics (one per label combination) become one family with labels. The
 * Prometheus client's own Dropwizard bridge cannot do that: it turns every Dropwizard metric into a
 * family of its own, and a scrape fails on the second family of the same name.
 *
 * <p>A family keeps the type and help of its first sample; a later sample of another type, or with
 * label values already present, is dropped rather than failing the scrape.
 */
final class MetricFamilies {
  /** The quantiles exported for every Dropwizard timer. */
  static final double[] QUANTILES = {0.5, 0.75, 0.95, 0.99, 0.999};

  private enum Type {
    COUNTER,
    GAUGE,
    SUMMARY
  }

  private static final class Family {
    final Type type;
    final String help;
    final List<DataPointSnapshot> points = new ArrayList<>();
    final Set<Labels> seen = new HashSet<>();

    Family(Type type, String help) {
      this.type = type;
      this.help = help;
    }
  }

  private final Map<String, Family> families = new TreeMap<>();

  /**
   * Adds one counter sample.
   *
   * @param name the family name without {@code _total}, which the text format appends
   */
  void counter(String name, String help, Labels labels, double value) {
    // A Prometheus counter never decreases; a negative Dropwizard count (dec() was called) cannot
    // be one.
    if (value >= 0) {
      add(
          name,
          Type.COUNTER,
          help,
          labels,
          () -> CounterDataPointSnapshot.builder().labels(labels).value(value).build());
    }
  }

  /** Adds one gauge sample. */
  void gauge(String name, String help, Labels labels, double value) {
    add(
        name,
        Type.GAUGE,
        help,
        labels,
        () -> GaugeDataPointSnapshot.builder().labels(labels).value(value).build());
  }

  /**
   * Adds one summary sample from a Dropwizard snapshot's count and quantile values.
   *
   * @param quantile the value at a quantile, already in the family's unit
   */
  void summary(String name, String help, Labels labels, long count, DoubleUnaryOperator quantile) {
    add(
        name,
        Type.SUMMARY,
        help,
        labels,
        () -> {
          Quantiles.Builder q = Quantiles.builder();
          for (double at : QUANTILES) {
            q.quantile(new Quantile(at, quantile.applyAsDouble(at)));
          }
          return SummaryDataPointSnapshot.builder()
              .labels(labels)
              .count(count)
              .quantiles(q.build())
              .build();
        });
  }

  private void add(
      String name, Type type, String help, Labels labels, Supplier<DataPointSnapshot> point) {
    Family family = families.computeIfAbsent(name, n -> new Family(type, help));
    if (family.type == type && family.seen.add(labels)) {
      family.points.add(point.get());
    }
  }

  /** The families collected so far, sorted by name. */
  MetricSnapshots build() {
    List<MetricSnapshot> snapshots = new ArrayList<>();
    families.forEach((name, f) -> snapshots.add(snapshot(name, f)));
    return new MetricSnapshots(snapshots);
  }

  private static MetricSnapshot snapshot(String name, Family f) {
    switch (f.type) {
      case COUNTER -> {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(f.help);
        f.points.forEach(p -> b.dataPoint((CounterDataPointSnapshot) p));
        return b.build();
      }
      case GAUGE -> {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(f.help);
        f.points.forEach(p -> b.dataPoint((GaugeDataPointSnapshot) p));
        return b.build();
      }
      default -> {
        SummarySnapshot.Builder b = SummarySnapshot.builder().name(name).help(f.help);
        f.points.forEach(p -> b.dataPoint((SummaryDataPointSnapshot) p));
        return b.build();
      }
    }
  }
}

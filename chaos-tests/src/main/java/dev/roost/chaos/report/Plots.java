package dev.roost.chaos.report;

import dev.roost.chaos.history.Event;
import dev.roost.chaos.history.History;
import dev.roost.chaos.history.Operation;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's PNG plots, drawn with XChart from the history alone: latency of every operation over
 * time by operation and outcome, and ok throughput per second by operation, both with the nemesis's
 * fault intervals shaded.
 */
public final class Plots {
  private static final Color FAULT = new Color(255, 80, 80, 50);

  private Plots() {}

  /** A fault interval read from the history's nemesis entries, in seconds. */
  record Interval(String fault, double start, double end) {}

  /** Pairs each nemesis {@code start} with the next {@code stop} of the same fault. */
  static List<Interval> faults(History history) {
    List<Interval> out = new ArrayList<>();
    Map<String, Double> open = new TreeMap<>();
    double last = 0;
    for (Event op : history.ops()) {
      last = Math.max(last, op.time() / 1e9);
      if (op.process() != Event.NEMESIS) {
        continue;
      }
      if (op.f().equals("start")) {
        open.put(op.key(), op.time() / 1e9);
      } else if (op.f().equals("stop") && open.containsKey(op.key())) {
        out.add(new Interval(op.key(), open.remove(op.key()), op.time() / 1e9));
      }
    }
    for (Map.Entry<String, Double> e : open.entrySet()) {
      out.add(new Interval(e.getKey(), e.getValue(), last));
    }
    return out;
  }

  /** Writes the latency scatter plot. */
  public static void latency(History history, Path png) throws IOException {
    XYChart chart =
        new XYChartBuilder()
            .width(1000)
            .height(450)
            .title("Latency by operation and outcome (faults shaded)")
            .xAxisTitle("time since start (s)")
            .yAxisTitle("latency (ms)")
            .build();
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    chart.getStyler().setMarkerSize(4);
    Map<String, List<double[]>> series = new TreeMap<>();
    double max = 1;
    for (Operation o : history.operations()) {
      if (o.completion() == null) {
        continue;
      }
      double latency = (o.completion().time() - o.invoke().time()) / 1e6;
      max = Math.max(max, latency);
      series
          .computeIfAbsent(o.f() + " " + o.outcome().wire(), k -> new ArrayList<>())
          .add(new double[] {o.invoke().time() / 1e9, latency});
    }
    shade(chart, faults(history), max);
    for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
      chart
          .addSeries(e.getKey(), column(e.getValue(), 0), column(e.getValue(), 1))
          .setMarker(SeriesMarkers.CIRCLE);
    }
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  /** Writes the throughput plot: ok operations per second, by operation. */
  public static void throughput(History history, Path png) throws IOException {
    XYChart chart =
        new XYChartBuilder()
            .width(1000)
            .height(350)
            .title("Throughput: ok operations per second (faults shaded)")
            .xAxisTitle("time since start (s)")
            .yAxisTitle("ops/s")
            .build();
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    Map<String, TreeMap<Long, Integer>> perSecond = new TreeMap<>();
    long lastSecond = 0;
    for (Operation o : history.operations()) {
      if (o.outcome() == Event.Type.OK) {
        long second = o.completion().time() / 1_000_000_000L;
        lastSecond = Math.max(lastSecond, second);
        perSecond.computeIfAbsent(o.f(), k -> new TreeMap<>()).merge(second, 1, Integer::sum);
      }
    }
    double max = 1;
    for (TreeMap<Long, Integer> counts : perSecond.values()) {
      for (int c : counts.values()) {
        max = Math.max(max, c);
      }
    }
    shade(chart, faults(history), max);
    for (Map.Entry<String, TreeMap<Long, Integer>> e : perSecond.entrySet()) {
      double[] x = new double[(int) lastSecond + 1];
      double[] y = new double[x.length];
      for (int s = 0; s < x.length; s++) {
        x[s] = s;
        y[s] = e.getValue().getOrDefault((long) s, 0);
      }
      chart.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.NONE);
    }
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  /** Fault intervals as filled areas up to {@code top}: XChart has no shaded-band primitive. */
  private static void shade(XYChart chart, List<Interval> intervals, double top) {
    if (intervals.isEmpty()) {
      return;
    }
    List<double[]> points = new ArrayList<>();
    for (Interval i : intervals) {
      points.add(new double[] {i.start(), 0});
      points.add(new double[] {i.start(), top});
      points.add(new double[] {i.end(), top});
      points.add(new double[] {i.end(), 0});
    }
    XYSeries s = chart.addSeries("faults", column(points, 0), column(points, 1));
    s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
    s.setFillColor(FAULT);
    s.setLineColor(FAULT);
    s.setMarker(SeriesMarkers.NONE);
  }

  private static double[] column(List<double[]> rows, int c) {
    double[] out = new double[rows.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = rows.get(i)[c];
    }
    return out;
  }
}

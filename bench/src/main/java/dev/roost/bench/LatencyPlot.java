package dev.roost.bench;

import dev.roost.bench.LoadGenerator.Result;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.HistogramIterationValue;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The latency distribution of a bench run as a PNG: latency against percentile on a log scale of
 * "nines" (50%, 90%, 99%, 99.9%...), the usual way to show tail latency.
 */
final class LatencyPlot {
  private LatencyPlot() {}

  static void write(Result result, Path png) throws IOException {
    List<Double> nines = new ArrayList<>();
    List<Double> millis = new ArrayList<>();
    for (HistogramIterationValue v : result.latencyMicros().percentiles(5)) {
      double percentile = v.getPercentileLevelIteratedTo();
      if (percentile >= 100.0) {
        break;
      }
      nines.add(1 / (1 - percentile / 100.0));
      millis.add(v.getValueIteratedTo() / 1000.0);
    }
    if (nines.isEmpty()) {
      nines.add(1.0);
      millis.add(0.0);
    }
    XYChart chart =
        new XYChartBuilder()
            .width(900)
            .height(500)
            .title(
                String.format(
                    Locale.ROOT,
                    "%s %s: %d clients x %d over %d connections, %.0f ops/s",
                    result.load().store(),
                    result.load().workload(),
                    result.load().clients(),
                    result.load().inFlight(),
                    result.load().connections(),
                    result.throughput()))
            .xAxisTitle("percentile (1/(1-p): 10 = 90%, 100 = 99%, 1000 = 99.9%)")
            .yAxisTitle("latency (ms)")
            .build();
    chart.getStyler().setXAxisLogarithmic(true);
    chart.getStyler().setLegendVisible(false);
    chart.addSeries("latency", nines, millis).setMarker(SeriesMarkers.NONE);
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }
}

package dev.roost.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roost.bench.LoadGenerator.Load;
import dev.roost.bench.LoadGenerator.Result;
import dev.roost.cli.Output;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;
import org.HdrHistogram.Histogram;

/**
 * Prints {@link LoadGenerator} results, the same way for {@code roost bench} and for the {@code
 * bench} module's comparison: one JSON object per result (docs/cli.md, "JSON output": fields are
 * added, never renamed or removed), or a table with one row per result. The table is made from the
 * JSON, so results saved as JSON print as the same table later.
 */
public final class BenchReport {
  private static final double[] PERCENTILES = {50, 90, 99, 99.9};

  private BenchReport() {}

  /** Prints one result as a one-line JSON object or as a table. */
  public static void print(Result result, boolean json, PrintWriter out) {
    ObjectNode node = json(result);
    if (json) {
      new Output(Output.Format.json, out).print(node);
    } else {
      table(List.of(node), out);
    }
    out.flush();
  }

  /** A result as JSON; latencies in milliseconds. */
  public static ObjectNode json(Result r) {
    Load load = r.load();
    Histogram h = r.latencyMicros();
    ObjectNode json = JsonNodeFactory.instance.objectNode();
    json.put("store", load.store());
    json.put("workload", load.workload());
    json.put("clients", load.clients());
    json.put("inFlight", load.inFlight());
    json.put("connections", load.connections());
    json.put("consistency", load.consistency());
    json.put("targetRate", load.rate());
    json.put("seconds", r.seconds());
    json.put("ops", r.ops());
    json.put("opsPerSecond", r.throughput());
    ObjectNode latency = json.putObject("latencyMs");
    for (double p : PERCENTILES) {
      latency.put(percentileName(p), h.getValueAtPercentile(p) / 1000.0);
    }
    latency.put("max", h.getMaxValue() / 1000.0);
    ObjectNode errors = json.putObject("errors");
    r.errors().forEach(errors::put);
    return json;
  }

  /** Prints results given as {@link #json} objects as one table, a row each. */
  public static void table(List<? extends JsonNode> results, PrintWriter out) {
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode r : results) {
      List<String> row = new ArrayList<>();
      row.add(r.path("store").asText());
      row.add(r.path("workload").asText());
      row.add(r.path("clients").asInt() + "x" + r.path("inFlight").asInt());
      row.add(Integer.toString(r.path("connections").asInt()));
      row.add(r.path("consistency").asText());
      row.add(String.format(Locale.ROOT, "%.0f", r.path("seconds").asDouble()));
      row.add(Long.toString(r.path("ops").asLong()));
      row.add(String.format(Locale.ROOT, "%.0f", r.path("opsPerSecond").asDouble()));
      for (double p : PERCENTILES) {
        row.add(ms(r.path("latencyMs").path(percentileName(p))));
      }
      row.add(ms(r.path("latencyMs").path("max")));
      StringJoiner errors = new StringJoiner(", ", "{", "}").setEmptyValue("0");
      r.path("errors").fields().forEachRemaining(e -> errors.add(e.getKey() + "=" + e.getValue()));
      row.add(errors.toString());
      rows.add(row);
    }
    new Output(Output.Format.table, out)
        .table(
            rows,
            "STORE",
            "WORKLOAD",
            "CLIENTS",
            "CONNS",
            "READS",
            "SECONDS",
            "OPS",
            "OPS/S",
            "P50 MS",
            "P90 MS",
            "P99 MS",
            "P99.9 MS",
            "MAX MS",
            "ERRORS");
    out.flush();
  }

  private static String percentileName(double p) {
    return "p" + (p == (long) p ? Long.toString((long) p) : Double.toString(p));
  }

  private static String ms(JsonNode millis) {
    return String.format(Locale.ROOT, "%.2f", millis.asDouble());
  }
}

package dev.roost.chaos.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roost.chaos.checker.Anomaly;
import dev.roost.chaos.checker.CheckResult;
import dev.roost.chaos.checker.Verdict;
import dev.roost.chaos.history.Event;
import dev.roost.chaos.history.History;
import dev.roost.chaos.history.Operation;
import dev.roost.chaos.nemesis.ScheduleStep;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a run's {@code results.json} and {@code report.html} (with {@code latency.png} and {@code
 * throughput.png}) into the run directory.
 *
 * @param facts what describes the run: seed, workload, nemesis, backend, command, durations, and
 *     warnings such as skipped partitions; copied into both files as given
 * @param planned the nemesis schedule as planned from the seed
 * @param results the checkers' results
 * @param verdict the combined verdict
 */
public record RunReport(
    Map<String, Object> facts,
    List<ScheduleStep> planned,
    List<CheckResult> results,
    Verdict verdict) {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Counts of ok/fail/info per operation. */
  public static Map<String, Map<String, Integer>> counts(History history) {
    Map<String, Map<String, Integer>> counts = new TreeMap<>();
    for (Operation o : history.operations()) {
      counts
          .computeIfAbsent(o.f(), k -> new TreeMap<>(Map.of("ok", 0, "fail", 0, "info", 0)))
          .merge(o.outcome().wire(), 1, Integer::sum);
    }
    return counts;
  }

  /** Writes every file of the report into {@code dir}. */
  public void write(Path dir, History history) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("verdict", verdict.name().toLowerCase(java.util.Locale.ROOT));
    root.set("run", JSON.valueToTree(facts));
    root.set("counts", JSON.valueToTree(counts(history)));
    root.set("schedule", JSON.valueToTree(planned));
    ArrayNode faults = root.putArray("faults");
    for (Event op : history.nemesis()) {
      ObjectNode f = faults.addObject();
      f.put("event", op.f()).put("fault", op.key()).put("timeMillis", op.time() / 1_000_000);
      f.set("value", op.value());
    }
    root.set("checkers", JSON.valueToTree(results));
    JSON.writeValue(dir.resolve("results.json").toFile(), root);

    Plots.latency(history, dir.resolve("latency.png"));
    Plots.throughput(history, dir.resolve("throughput.png"));
    Files.writeString(dir.resolve("report.html"), html(history), StandardCharsets.UTF_8);
  }

  private String html(History history) {
    StringBuilder b = new StringBuilder();
    b.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Roost chaos run</title>")
        .append("<style>body{font-family:sans-serif;max-width:1050px;margin:auto}")
        .append("td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}")
        .append("table{border-collapse:collapse}.invalid{color:#b00}.valid{color:#070}")
        .append(".unknown{color:#a60}code{font-size:90%}</style></head><body>");
    String v = verdict.name().toLowerCase(java.util.Locale.ROOT);
    b.append("<h1>Roost chaos run: <span class=\"").append(v).append("\">").append(v);
    b.append("</span></h1><table>");
    facts.forEach(
        (k, val) ->
            b.append("<tr><th>")
                .append(esc(k))
                .append("</th><td><code>")
                .append(esc(String.valueOf(val)))
                .append("</code></td></tr>"));
    b.append("</table><h2>Checkers</h2><table><tr><th>checker</th><th>verdict</th><th>note</th>");
    for (CheckResult r : results) {
      String rv = r.verdict().name().toLowerCase(java.util.Locale.ROOT);
      b.append("<tr><td>").append(esc(r.checker())).append("</td><td class=\"").append(rv);
      b.append("\">").append(rv).append("</td><td>").append(esc(r.note())).append("</td></tr>");
    }
    b.append("</table>");
    for (CheckResult r : results) {
      for (Anomaly a : r.anomalies()) {
        b.append("<h3 class=\"invalid\">").append(esc(a.kind())).append("</h3><p>");
        b.append(esc(a.message())).append("</p><ul>");
        a.ops().forEach(o -> b.append("<li><code>").append(esc(o)).append("</code></li>"));
        b.append("</ul>");
      }
    }
    b.append("<h2>Operations</h2><table><tr><th>op</th><th>ok</th><th>fail</th><th>info</th>");
    counts(history)
        .forEach(
            (f, c) ->
                b.append("<tr><td>")
                    .append(esc(f))
                    .append("</td><td>")
                    .append(c.get("ok"))
                    .append("</td><td>")
                    .append(c.get("fail"))
                    .append("</td><td>")
                    .append(c.get("info"))
                    .append("</td></tr>"));
    b.append("</table><h2>Plots</h2><img src=\"latency.png\" alt=\"latency\"><br>");
    b.append("<img src=\"throughput.png\" alt=\"throughput\">");
    b.append("<h2>Faults that ran</h2><table><tr><th>t (s)</th><th>event</th><th>fault</th>");
    b.append("<th>details</th></tr>");
    for (Event op : history.nemesis()) {
      b.append("<tr><td>").append(String.format("%.1f", op.time() / 1e9)).append("</td><td>");
      b.append(esc(op.f())).append("</td><td>").append(esc(op.key())).append("</td><td>");
      b.append(esc(op.value().toString())).append("</td></tr>");
    }
    b.append("</table><h2>Schedule planned from the seed</h2><table><tr><th>at (s)</th>");
    b.append("<th>fault</th><th>for (s)</th></tr>");
    for (ScheduleStep s : planned) {
      b.append("<tr><td>").append(s.at() / 1000.0).append("</td><td>");
      b.append(s.kind().wire()).append("</td><td>").append(s.durationMillis() / 1000.0);
      b.append("</td></tr>");
    }
    b.append("</table><p>History: <a href=\"history.jsonl\">history.jsonl</a>, results: ");
    b.append("<a href=\"results.json\">results.json</a>.</p></body></html>\n");
    return b.toString();
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}

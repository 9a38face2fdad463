package dev.roost.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roost.bench.LoadGenerator.Load;
import dev.roost.bench.LoadGenerator.Result;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class BenchReportTest {
  private final Result result = result();

  @Test
  void jsonCarriesTheLoadAndTheFigures() throws Exception {
    JsonNode json = new ObjectMapper().readTree(print(true));

    assertThat(json.path("store").asText()).isEqualTo("etcd");
    assertThat(json.path("workload").asText()).isEqualTo("kv-put");
    assertThat(json.path("clients").asInt()).isEqualTo(64);
    assertThat(json.path("connections").asInt()).isEqualTo(4);
    assertThat(json.path("ops").asLong()).isEqualTo(1000);
    assertThat(json.path("opsPerSecond").asDouble()).isEqualTo(500.0);
    assertThat(json.path("latencyMs").path("p50").asDouble()).isBetween(1.99, 2.01);
    assertThat(json.path("latencyMs").path("max").asDouble()).isBetween(9.99, 10.01);
    assertThat(json.path("errors").path("UNAVAILABLE").asLong()).isEqualTo(3);
  }

  @Test
  void theTableIsMadeFromTheJsonSoSavedResultsPrintTheSame() {
    String table = print(false);
    StringWriter fromJson = new StringWriter();
    BenchReport.table(List.of(BenchReport.json(result)), new PrintWriter(fromJson));

    assertThat(table).isEqualTo(fromJson.toString());
    assertThat(table.lines().toList().get(0)).startsWith("STORE").contains("CONNS", "P99.9 MS");
    assertThat(table.lines().toList().get(1))
        .matches("etcd +kv-put +64x1 +4 +linearizable +2 +1000 +500 +2\\.00 .* \\{UNAVAILABLE=3}");
  }

  private String print(boolean json) {
    StringWriter out = new StringWriter();
    BenchReport.print(result, json, new PrintWriter(out));
    return out.toString();
  }

  private static Result result() {
    Histogram h = new Histogram(3_600_000_000L, 3);
    h.recordValueWithCount(2000, 999);
    h.recordValue(10_000);
    Load load =
        new Load(
            "etcd", "kv-put", 64, 1, 4, "linearizable", Duration.ofSeconds(2), Duration.ZERO, 0);
    return new Result(load, 1000, 2.0, h, Map.of("UNAVAILABLE", 3L));
  }
}

package dev.roost.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roost.cli.RoostCli;
import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LoopbackPorts;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code roost bench} as {@code ./roost bench} runs it (the CLI's command tree with the bench
 * added, {@link RoostBench}) against a real three-process cluster: it prints measured figures and a
 * plot, and refuses bad options as bad input.
 */
class BenchIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path home;
  private static LocalCluster cluster;

  private record Run(int exit, String out, String err) {}

  @BeforeAll
  static void up() throws Exception {
    cluster =
        LocalCluster.create(home, LocalCluster.defaultServerJar(), 3, LoopbackPorts.cluster(3));
    cluster.startAll();
    cluster.awaitReady(cluster.nodes(), Duration.ofSeconds(90));
  }

  @AfterAll
  static void down() throws IOException {
    if (cluster != null) {
      cluster.stopAll(Duration.ofSeconds(10));
    }
  }

  private static Run bench(String... args) {
    List<String> all = new ArrayList<>(List.of("--home", home.toString(), "bench"));
    all.addAll(List.of(args));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit =
        RoostCli.run(
            all.toArray(String[]::new),
            new PrintWriter(out, true),
            new PrintWriter(err, true),
            List.of(new BenchCommand()));
    return new Run(exit, out.toString(), err.toString());
  }

  private static JsonNode ok(String... args) throws IOException {
    Run r = bench(args);
    assertThat(r.exit())
        .as("roost bench %s\nstdout: %s\nstderr: %s", List.of(args), r.out(), r.err())
        .isZero();
    return JSON.readTree(r.out());
  }

  @Test
  void printsMeasuredFiguresAndAPlotAndRefusesBadOptions(@TempDir Path plots) throws IOException {
    Path png = plots.resolve("latency.png");
    JsonNode put =
        ok(
            "kv-put",
            "--clients",
            "2",
            "--connections",
            "2",
            "--duration",
            "3",
            "--warmup",
            "2",
            "--plot",
            png.toString(),
            "-o",
            "json");
    assertThat(put.path("workload").asText()).isEqualTo("kv-put");
    assertThat(put.path("connections").asInt()).isEqualTo(2);
    assertThat(put.path("ops").asLong()).isPositive();
    assertThat(put.path("latencyMs").path("p99").asDouble()).isPositive();
    assertThat(Files.size(png)).isPositive();

    JsonNode get =
        ok(
            "kv-get",
            "--clients",
            "2",
            "--duration",
            "1",
            "--warmup",
            "0",
            "--keys",
            "20",
            "--consistency",
            "stale",
            "-o",
            "json");
    assertThat(get.path("consistency").asText()).isEqualTo("stale");
    assertThat(get.path("ops").asLong()).isPositive();

    for (Run bad :
        List.of(
            bench("kv-put", "--clients", "0"),
            bench("kv-put", "--clients", "2", "--connections", "3"))) {
      assertThat(bad.exit()).isEqualTo(2);
      assertThat(bad.err()).startsWith("error: INVALID_ARGUMENT: ");
    }
  }
}

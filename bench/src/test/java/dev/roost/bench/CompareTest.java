package dev.roost.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.bench.LoadGenerator.Result;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Options, requests and saved results; no store is contacted. */
class CompareTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @Test
  void everyStoreNamesTheSameKeysItsOwnWay() {
    assertThat(RoostConnection.key(7)).isEqualTo("bench/7");
    assertThat(EtcdConnection.key(7).toString(StandardCharsets.UTF_8)).isEqualTo("bench/7");
    assertThat(ZooKeeperConnection.path(7)).isEqualTo("/bench/k7");
    assertThat(EtcdConnection.urls("127.0.0.1:2379, http://127.0.0.1:2381,"))
        .containsExactly("http://127.0.0.1:2379", "http://127.0.0.1:2381");
  }

  @Test
  void theLoadIsTheSameShapeForEveryStore() {
    Compare compare = parse("kv-get", "--store", "ZooKeeper", "--endpoints", "127.0.0.1:1");
    assertThat(compare.validate()).isNull();
    assertThat(compare.load())
        .satisfies(
            l -> {
              assertThat(l.store()).isEqualTo("zookeeper");
              assertThat(l.workload()).isEqualTo("kv-get");
              assertThat(l.consistency()).isEqualTo("local");
              assertThat(l.callers()).isEqualTo(64);
              assertThat(l.connections()).isEqualTo(1);
              assertThat(l.duration()).hasSeconds(30);
              assertThat(l.warmup()).hasSeconds(10);
            });
    assertThat(parse("kv-put", "--store", "etcd", "--endpoints", "h:1").load().consistency())
        .isEqualTo("linearizable");
    assertThat(parse("kv-get", "--store", "ratis", "--endpoints", "n1=h:1/2", "--insecure").load())
        .satisfies(
            l -> {
              assertThat(l.store()).isEqualTo("ratis");
              assertThat(l.consistency()).isEqualTo("linearizable");
            });
  }

  @Test
  void badOptionsAreRefusedBeforeConnecting() {
    assertThat(run("kv-put", "--store", "etcd", "--endpoints", "h:1", "--connections", "65"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("error: ", "--connections at most --clients");
    assertThat(run("kv-del", "--store", "etcd", "--endpoints", "h:1")).isEqualTo(2);
    assertThat(run("kv-put", "--store", "redis", "--endpoints", "h:1")).isEqualTo(2);
    assertThat(run("kv-put", "--store", "roost")).isEqualTo(2);
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void roostServersTakeACaOrInsecureAndOthersNeither(@TempDir Path dir) {
    String peers = "n1=127.0.0.1:1/2";
    assertThat(parse("kv-put", "--store", "roost", "--endpoints", peers).validate())
        .contains("--ca FILE", "--insecure");
    assertThat(parse("kv-put", "--store", "roost", "--endpoints", peers, "--insecure").validate())
        .isNull();
    assertThat(
            parse("kv-put", "--store", "ratis", "--endpoints", peers, "--ca", "ca.crt").validate())
        .isNull();
    assertThat(
            parse(
                    "kv-put",
                    "--store",
                    "roost",
                    "--endpoints",
                    peers,
                    "--ca",
                    "ca.crt",
                    "--insecure")
                .validate())
        .contains("exclude each other");
    assertThat(parse("kv-put", "--store", "etcd", "--endpoints", "h:1", "--insecure").validate())
        .contains("roost, ratis");

    Path missing = dir.resolve("missing.crt");
    assertThat(run("kv-put", "--store", "roost", "--endpoints", peers, "--ca", missing.toString()))
        .isEqualTo(2);
    assertThat(err.toString()).startsWith("error: --ca: ").contains(missing.toString());
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void savedResultsPrintAsOneTable(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("results.json");
    Files.writeString(
        file,
        BenchReport.json(result("etcd")) + "\n" + BenchReport.json(result("zookeeper")) + "\n");

    assertThat(run("table", file.toString())).isEqualTo(0);
    assertThat(out.toString().lines())
        .hasSize(3)
        .satisfiesExactly(
            header -> assertThat(header).startsWith("STORE"),
            etcd -> assertThat(etcd).startsWith("etcd").contains("kv-put", "64x1"),
            zk -> assertThat(zk).startsWith("zookeeper").contains("local"));
  }

  private Compare parse(String... args) {
    Compare compare = new Compare();
    new picocli.CommandLine(compare).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args);
    return compare;
  }

  private int run(String... args) {
    return Compare.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
  }

  private Result result(String store) {
    Compare compare = parse("kv-put", "--store", store, "--endpoints", "h:1");
    Histogram h = new Histogram(3_600_000_000L, 3);
    h.recordValue(1500);
    return new Result(compare.load(), 1, 1.0, h, Map.of());
  }
}

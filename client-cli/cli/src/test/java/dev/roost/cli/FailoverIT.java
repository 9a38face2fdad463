package dev.roost.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.client.Tls;
import dev.roost.proto.Post;
import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LocalCluster.Node;
import dev.roost.testkit.LoopbackPorts;
import dev.roost.testkit.PostAudit;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failover with real server processes: a post in flight when the leader is killed with SIGKILL
 * takes effect exactly once, and the interactive shell rides over a failover.
 */
class FailoverIT {
  @TempDir Path home;
  private LocalCluster cluster;

  @BeforeEach
  void up() throws Exception {
    cluster =
        LocalCluster.create(home, LocalCluster.defaultServerJar(), 3, LoopbackPorts.cluster(3));
    cluster.startAll();
    cluster.awaitReady(cluster.nodes(), Duration.ofSeconds(60));
  }

  @AfterEach
  void down() throws IOException {
    cluster.stopAll(Duration.ofSeconds(5));
  }

  @Test
  void aPostInFlightWhenTheLeaderIsKilledTakesEffectExactlyOnce() throws Exception {
    Map<String, Boolean> acknowledged = new HashMap<>();
    try (RoostClient client =
        RoostClient.builder()
            .peers(cluster.peers())
            .tls(Tls.of(cluster.caFile()))
            .deadline(Duration.ofSeconds(30))
            .build()) {
      client.registerUser("writer", "");
      for (int round = 0; round < 4; round++) {
        Node leader = cluster.leader().orElseThrow();
        // Send, then kill the leader a few milliseconds later: depending on the moment, the
        // entry was not yet replicated (the retry applies it), or committed with the reply lost
        // (the retry must be answered from the remembered result, not applied again).
        String text = "in flight " + round;
        CompletableFuture<Post> post = client.postAsync("writer", text);
        Thread.sleep(round * 3L);
        cluster.kill(leader);
        try {
          post.get(40, TimeUnit.SECONDS);
          acknowledged.put(text, true);
        } catch (java.util.concurrent.ExecutionException e) {
          RoostException failure = (RoostException) e.getCause();
          assertThat(failure.outcomeUnknown()).as(failure.toString()).isTrue();
          acknowledged.put(text, false);
        }
        cluster.start(cluster.node(leader.id()));
        cluster.awaitReady(cluster.nodes(), Duration.ofSeconds(60));
      }

      Set<String> acked = new HashSet<>();
      Set<String> unknown = new HashSet<>();
      acknowledged.forEach((text, ok) -> (ok ? acked : unknown).add(text));
      PostAudit audit = PostAudit.of(client.allPosts("writer").toList(), acked, unknown, Set.of());
      assertThat(audit.clean()).as(audit.summary()).isTrue();
      assertThat(acknowledged).containsValue(true);
    }
  }

  @Test
  void theShellCarriesOnThroughAFailover() throws Exception {
    Process shell =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                System.getProperty("roost.cli.jar"),
                "shell",
                "--user",
                "alice",
                "--peers",
                cluster.peers(),
                "--ca",
                cluster.caFile().orElseThrow().toString())
            .redirectErrorStream(true)
            .start();
    try (Writer in = new OutputStreamWriter(shell.getOutputStream(), StandardCharsets.UTF_8);
        BufferedReader out =
            new BufferedReader(
                new InputStreamReader(shell.getInputStream(), StandardCharsets.UTF_8))) {
      in.write("POST before the failover\n");
      in.flush();
      assertThat(readUntil(out, "Posted #")).isTrue();
      cluster.kill(cluster.leader().orElseThrow());
      in.write("POST after the failover\nTIMELINE\nFOLLOW nobody_here\nLIST\nEXIT\n");
      in.flush();
      List<String> lines = new ArrayList<>();
      for (String line; (line = out.readLine()) != null; ) {
        lines.add(line);
      }
      assertThat(shell.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String transcript = String.join("\n", lines);
      assertThat(transcript).contains("Reconnecting to 127.0.0.1:");
      assertThat(transcript).contains("after the failover").contains("before the failover");
      assertThat(transcript).contains("error: NOT_FOUND: user 'nobody_here' does not exist");
      assertThat(transcript).contains("All users: alice");
      assertThat(shell.exitValue()).isZero();
    } finally {
      shell.destroyForcibly();
    }
  }

  private static boolean readUntil(BufferedReader out, String marker) throws IOException {
    for (String line; (line = out.readLine()) != null; ) {
      if (line.contains(marker)) {
        return true;
      }
    }
    return false;
  }
}

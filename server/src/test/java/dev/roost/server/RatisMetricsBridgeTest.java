package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.impl.RatisMetricRegistryImpl;
import org.junit.jupiter.api.Test;

/**
 * Ratis' shaded Dropwizard metrics in Prometheus form: names in snake case with units, peer ids
 * moved into labels, per-RPC message counters left out. The registries are made here the way Ratis'
 * metric classes make them (same application, component and member prefix).
 */
class RatisMetricsBridgeTest {
  private static final String MEMBER = "n1@group-000000000001";

  private static RatisMetricRegistryImpl registry(String application, String component) {
    return new RatisMetricRegistryImpl(
        new MetricRegistryInfo(MEMBER, application, component, "Metrics for " + component));
  }

  private static String scrape(RatisMetricRegistry... registries) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create()
        .write(
            out,
            new RatisMetricsBridge(() -> List.of(registries)).collect(),
            EscapingScheme.UNDERSCORE_ESCAPING);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void countersTimersAndGaugesGetPrometheusNamesAndUnits() throws IOException {
    RatisMetricRegistryImpl election = registry("ratis", "leader_election");
    election.counter("electionCount").inc(3);
    election.gauge("lastLeaderElapsedTime", () -> () -> 1500L);
    election
        .getDropWizardMetricRegistry()
        .timer("ratis.leader_election." + MEMBER + ".electionTime")
        .update(250, TimeUnit.MILLISECONDS);
    RatisMetricRegistryImpl log = registry("ratis", "log_worker");
    log.gauge("closedSegmentsSizeInBytes", () -> () -> 2048L);

    String text = scrape(election, log);

    assertThat(text)
        .contains("# TYPE ratis_leader_election_election_total counter")
        .contains("ratis_leader_election_election_total 3.0")
        .contains("ratis_leader_election_last_leader_elapsed_time_seconds 1.5")
        .contains("# TYPE ratis_leader_election_election_time_seconds summary")
        .contains("ratis_leader_election_election_time_seconds{quantile=\"0.5\"} 0.25")
        .contains("ratis_leader_election_election_time_seconds_count 1")
        .contains("ratis_log_worker_closed_segments_size_bytes 2048.0");
  }

  @Test
  void peerIdsInRatisNamesBecomeLabels() throws IOException {
    RatisMetricRegistryImpl server = registry("ratis", "server");
    server.gauge("n1_peerCommitIndex", () -> () -> 40L);
    server.gauge("n2_peerCommitIndex", () -> () -> 38L);
    server.gauge("n2_lastHeartbeatElapsedTime", () -> () -> 150_000_000L);
    server.gauge("numWatch-ALLRequestInQueue", () -> () -> 0);
    server.gauge("numWatchRequestInQueue", () -> () -> 1);
    RatisMetricRegistryImpl appender = registry("ratis", "log_appender");
    appender.gauge("follower_n2_match_index", () -> () -> 37L);
    appender.gauge("follower_n2_next_index", () -> () -> 39L);
    RatisMetricRegistryImpl grpc = registry("ratis_grpc", "log_appender");
    grpc.counter("n2_success_reply_count").inc(5);

    String text = scrape(server, appender, grpc);

    assertThat(text)
        .contains("ratis_server_peer_commit_index{peer=\"n1\"} 40.0")
        .contains("ratis_server_peer_commit_index{peer=\"n2\"} 38.0")
        .contains("ratis_server_follower_last_heartbeat_elapsed_time_seconds{follower=\"n2\"} 0.15")
        .contains("ratis_server_num_watch_request_in_queue{replication=\"ALL\"} 0.0")
        .contains("ratis_server_num_watch_request_in_queue{replication=\"MAJORITY\"} 1.0")
        .contains("ratis_log_appender_follower_match_index{follower=\"n2\"} 37.0")
        .contains("ratis_log_appender_follower_next_index{follower=\"n2\"} 39.0")
        .contains("ratis_grpc_log_appender_success_reply_total{follower=\"n2\"} 5.0");
  }

  @Test
  void messageCountersAndFailingGaugesAreLeftOut() throws IOException {
    RatisMetricRegistryImpl messages = registry("ratis", "server_message_metrics");
    messages.counter("n1_ratis.grpc.RaftServerProtocolService_started_total").inc();
    RatisMetricRegistryImpl server = registry("ratis", "server");
    server.gauge(
        "retryCacheHitRate",
        () ->
            () -> {
              throw new IllegalStateException("member closed");
            });
    server.counter("numInstallSnapshot").inc();

    String text = scrape(messages, server);

    assertThat(text)
        .doesNotContain("message")
        .doesNotContain("retry_cache")
        .contains("ratis_server_num_install_snapshot_total 1.0");
  }
}

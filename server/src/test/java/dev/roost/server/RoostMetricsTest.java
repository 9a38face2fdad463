package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.jmx.JmxReporter;
import dev.roost.proto.Command.OpCase;
import dev.roost.proto.Query.QCase;
import dev.roost.proto.StatusCode;
import dev.roost.statemachine.RoostStateMachine.StateSizes;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The observer side of {@link RoostMetrics} and its Prometheus text through {@link
 * PrometheusExport}: names, labels, units and what counts as a client-visible error.
 */
class RoostMetricsTest {
  private final RoostMetrics metrics = new RoostMetrics();
  private final PrometheusExport export =
      new PrometheusExport(metrics, MetricSnapshots::new, false);

  private String scrape() throws IOException {
    return new String(export.scrape(), StandardCharsets.UTF_8);
  }

  @Test
  void commandsAreCountedByOperationAndCodeAndTimedOnlyWhereAccepted() throws IOException {
    metrics.commandApplied(OpCase.CREATE_POST, StatusCode.OK, 2_000_000);
    metrics.commandApplied(OpCase.CREATE_POST, StatusCode.OK, 4_000_000);
    // Applied as a follower: counted, not timed, and not an error this member answered.
    metrics.commandApplied(OpCase.FOLLOW, StatusCode.NOT_FOUND, -1);

    String text = scrape();

    assertThat(text)
        .contains("# TYPE roost_commands_total counter")
        .contains("roost_commands_total{code=\"OK\",op=\"create_post\"} 2.0")
        .contains("roost_commands_total{code=\"NOT_FOUND\",op=\"follow\"} 1.0")
        .contains("# TYPE roost_command_latency_seconds summary")
        .contains("roost_command_latency_seconds_count{op=\"create_post\"} 2")
        .contains("roost_command_latency_seconds{op=\"create_post\",quantile=\"0.99\"} 0.004")
        .contains("roost_command_latency_seconds_count{op=\"follow\"} 0")
        .contains("roost_commands_total{code=\"OK\",op=\"kv_put\"} 0.0")
        .doesNotContain("roost_errors_total");
  }

  @Test
  void clientVisibleErrorsAreCountedByCode() throws IOException {
    metrics.commandRejected(OpCase.REGISTER_USER, StatusCode.INVALID_ARGUMENT);
    metrics.commandApplied(OpCase.REGISTER_USER, StatusCode.ALREADY_EXISTS, 1_000);
    metrics.queryServed(QCase.GET_TIMELINE, StatusCode.NOT_FOUND, 1_000);
    metrics.queryServed(QCase.GET_TIMELINE, StatusCode.OK, 1_000);
    metrics.commandRejected(OpCase.OP_NOT_SET, StatusCode.INVALID_ARGUMENT);

    String text = scrape();

    assertThat(text)
        .contains("roost_errors_total{code=\"INVALID_ARGUMENT\"} 2.0")
        .contains("roost_errors_total{code=\"ALREADY_EXISTS\"} 1.0")
        .contains("roost_errors_total{code=\"NOT_FOUND\"} 1.0")
        .contains(
            "roost_commands_rejected_total{code=\"INVALID_ARGUMENT\",op=\"register_user\"} 1.0")
        .contains("roost_commands_rejected_total{code=\"INVALID_ARGUMENT\",op=\"none\"} 1.0")
        .contains("roost_queries_total{code=\"OK\",query=\"get_timeline\"} 1.0")
        .contains("roost_query_duration_seconds_count{query=\"get_timeline\"} 2");
  }

  @Test
  void theWriteGatewayCountsWritesAndTheEntriesTheyTook() throws IOException {
    assertThat(scrape())
        .contains("roost_gateway_writes_total 0.0")
        .contains("roost_gateway_entries_total 0.0");
    metrics.gatewayEntry(1);
    metrics.gatewayEntry(30);

    assertThat(scrape())
        .contains("# TYPE roost_gateway_writes_total counter")
        .contains("roost_gateway_writes_total 31.0")
        .contains("roost_gateway_entries_total 2.0");
  }

  @Test
  void theWatchdogsAreCounted() throws IOException {
    assertThat(scrape())
        .contains("roost_membership_aborted_total 0.0")
        .contains("roost_raft_stuck_followers_total 0.0");
    metrics.membershipAborted();
    metrics.stuckFollower();
    metrics.stuckFollower();

    assertThat(scrape())
        .contains("# TYPE roost_membership_aborted_total counter")
        .contains("roost_membership_aborted_total 1.0")
        .contains("# TYPE roost_raft_stuck_followers_total counter")
        .contains("roost_raft_stuck_followers_total 2.0");
  }

  @Test
  void snapshotsStateSizesAndTheMemberAreGauges() throws IOException {
    metrics.snapshotTaken(4096, 250_000_000);
    RaftReading leader =
        new RaftReading("n1", true, true, "LEADER", 7, "n1", true, 120, 100, 120, List.of());
    metrics.watch(() -> new StateSizes(3, 2, 10, 1, 5), () -> Optional.of(leader));

    String text = scrape();

    assertThat(text)
        .contains("roost_snapshots_total 1.0")
        .contains("roost_snapshot_size_bytes 4096.0")
        .contains("roost_snapshot_duration_seconds_count 1")
        .contains("roost_state_users 3.0")
        .contains("roost_state_follow_edges 2.0")
        .contains("roost_state_posts 10.0")
        .contains("roost_state_keys 1.0")
        .contains("roost_state_sessions 5.0")
        .contains("roost_raft_term 7.0")
        .contains("roost_raft_is_leader 1.0")
        .contains("roost_raft_commit_index 120.0")
        .contains("roost_raft_applied_index 100.0")
        .contains("roost_raft_apply_lag_entries 20.0")
        .contains("roost_raft_behind_leader_entries 20.0")
        .contains("roost_raft_ready 1.0");
  }

  @Test
  void aStuckMemberIsAGauge() throws IOException {
    RaftReading stuck =
        new RaftReading("n3", true, true, "FOLLOWER", 4, "n1", false, 948, 948, 2034, List.of());
    long[] now = {0};
    StallWatch watch = new StallWatch(() -> Optional.of(stuck), () -> now[0]);
    metrics.watchStall(watch);
    watch.sample();
    assertThat(scrape()).contains("roost_raft_stalled 0.0");

    now[0] += StallWatch.BOUND.toMillis();
    watch.sample();

    assertThat(scrape()).contains("roost_raft_stalled 1.0");
  }

  @Test
  void withoutARaftMemberTheMemberGaugesReportNothing() throws IOException {
    metrics.watch(() -> new StateSizes(0, 0, 0, 0, 0), Optional::empty);

    String text = scrape();

    assertThat(text).contains("roost_state_users 0.0").doesNotContain("roost_raft_term ");
  }

  @Test
  void everyRoostMetricIsAlsoAJmxBean() throws Exception {
    metrics.commandApplied(OpCase.KV_PUT, StatusCode.NOT_FOUND, 1);
    MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();

    try (JmxReporter reporter = metrics.jmxReporter()) {
      reporter.start();

      assertThat(
              jmx.queryNames(new ObjectName("roost:name=roost.commands.kv_put.NOT_FOUND,*"), null))
          .hasSize(1);
      assertThat(jmx.queryNames(new ObjectName("roost:name=roost.commands.latency.kv_put,*"), null))
          .hasSize(1);
    }
  }
}

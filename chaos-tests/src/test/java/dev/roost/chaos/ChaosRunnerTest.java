package dev.roost.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The chaos command line's options; nothing is started. Wrong options exit 3 (the harness could not
 * run), never 2, which means a checker could not decide.
 */
class ChaosRunnerTest {
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = ChaosRunner.commandLine();
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(new StringWriter(), true));
    return cli.execute(args);
  }

  @Test
  void durationsAndRangesParse() {
    ChaosRunner runner = new ChaosRunner();
    new CommandLine(runner)
        .parseArgs("--time", "25s", "--fault-time", "3s-4s", "--heal-time", "500ms-2s");
    assertThat(runner.time).isEqualTo(Duration.ofSeconds(25));
    assertThat(runner.faultTime.toArray()).containsExactly(3_000, 4_000);
    assertThat(runner.healTime.toArray()).containsExactly(500, 2_000);
    assertThat(runner.checkTime).isEqualTo(Duration.ofSeconds(120));
  }

  @Test
  void badDurationsAreRefusedNamingTheOptionWithoutAStackTrace() {
    for (String[] args :
        new String[][] {
          {"--fault-time", "3000-4000"},
          {"--fault-time", "3s"},
          {"--heal-time", "4s-3s"},
          {"--time", "1.5m"},
          {"--check-time", "soon"},
          {"--time=-5s"},
        }) {
      err.getBuffer().setLength(0);
      assertThat(run(args)).as(String.join(" ", args)).isEqualTo(3);
      assertThat(err.toString())
          .as(String.join(" ", args))
          .startsWith(
              "error: INVALID_ARGUMENT: Invalid value for option '" + args[0].split("=")[0] + "'")
          .doesNotContain("\tat ", "chaos harness failed");
    }
  }

  @Test
  void aClusterOrWorkloadOfNobodyIsRefused() {
    for (String option : new String[] {"--nodes", "--clients"}) {
      err.getBuffer().setLength(0);
      assertThat(run(option, "0")).isEqualTo(3);
      assertThat(err.toString()).contains("must be at least 1").doesNotContain("\tat ");
    }
  }

  @Test
  void anUnknownWorkloadIsRefused() {
    assertThat(run("--workload", "chat")).isEqualTo(3);
    assertThat(err.toString()).contains("unknown workload 'chat'").doesNotContain("\tat ");
  }

  @Test
  void anUnknownNemesisIsRefused() {
    assertThat(run("--nemesis", "kill,flood")).isEqualTo(3);
    assertThat(err.toString()).contains("unknown nemesis 'flood'").doesNotContain("\tat ");
  }
}

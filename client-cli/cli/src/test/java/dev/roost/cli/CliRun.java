package dev.roost.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One in-process run of the {@code roost} CLI against the local cluster in {@code home}. */
record CliRun(int exit, String out, String err) {
  private static final ObjectMapper JSON = new ObjectMapper();

  JsonNode json() throws IOException {
    return JSON.readTree(out);
  }

  /** Runs {@code roost --home HOME ARGS...}, capturing stdout, stderr and the exit status. */
  static CliRun roost(Path home, String... args) {
    List<String> all = new ArrayList<>(List.of("--home", home.toString()));
    all.addAll(List.of(args));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit =
        RoostCli.run(
            all.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
    return new CliRun(exit, out.toString(), err.toString());
  }

  /** As {@link #roost}, asserting exit status 0 and showing both streams if not. */
  static CliRun ok(Path home, String... args) {
    CliRun r = roost(home, args);
    assertThat(r.exit())
        .as("roost %s\nstdout: %s\nstderr: %s", List.of(args), r.out(), r.err())
        .isZero();
    return r;
  }
}

package dev.roost.bench;

import dev.roost.cli.RoostCli;
import java.io.PrintWriter;
import java.util.List;

/**
 * {@code ./roost bench ...}: the roost command line with {@link BenchCommand} added, so that load
 * generation ships in its own jar and the CLI knows nothing of it.
 */
public final class RoostBench {
  private RoostBench() {}

  /**
   * Runs {@code roost bench ...} (the first argument is {@code bench}) and exits with its status.
   */
  public static void main(String[] args) {
    RoostCli.quietGrpcLogging();
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    System.exit(RoostCli.run(args, out, err, List.of(new BenchCommand())));
  }
}

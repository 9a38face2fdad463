package dev.roost.cli;

import dev.roost.client.RoostClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Base of every command: access to the root command's options, and {@link #run()} in place of
 * {@code call()}; failures propagate to {@link RoostCli}'s handler, which prints them.
 */
public abstract class Verb implements Callable<Integer> {
  @Spec CommandSpec spec;

  public RoostCli root() {
    return (RoostCli) spec.root().userObject();
  }

  public Output output() {
    return root().output();
  }

  @Override
  public Integer call() throws Exception {
    run();
    return 0;
  }

  public abstract void run() throws Exception;

  /** Base of commands that talk to the cluster through one {@link RoostClient}. */
  public abstract static class WithClient extends Verb {
    @Override
    public void run() throws Exception {
      try (RoostClient client = root().client()) {
        run(client);
      }
    }

    public abstract void run(RoostClient client) throws Exception;
  }
}

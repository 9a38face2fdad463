package dev.roost.cli;

import dev.roost.client.RoostClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code roost user add HANDLE} and {@code roost users}. */
@Command(
    name = "user",
    description = "Manage users.",
    subcommands = {UserCommand.Add.class})
final class UserCommand {

  @Command(
      name = "add",
      description = "Register a user (handles: 3-32 of a-z 0-9 _, case-insensitive).")
  static final class Add extends Verb.WithClient {
    @Parameters(paramLabel = "HANDLE")
    String handle;

    @Option(names = "--name", defaultValue = "", description = "Display name.")
    String displayName;

    @Override
    public void run(RoostClient client) {
      output().user(client.registerUser(handle, displayName));
    }
  }

  @Command(name = "users", description = "List users, optionally by handle prefix.")
  static final class Users extends Verb.WithClient {
    @Option(names = "--prefix", defaultValue = "", description = "Handle prefix.")
    String prefix;

    @Option(
        names = "--limit",
        defaultValue = "50",
        description = "Page size, 1-200 (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--page", defaultValue = "", description = "Page token from a previous page.")
    String page;

    @Override
    public void run(RoostClient client) {
      output().users(client.listUsers(prefix, limit, page));
    }
  }
}

package dev.roost.cli;

import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.proto.PostPage;
import dev.roost.proto.User;
import java.io.PrintWriter;
import java.util.Locale;
import org.jline.reader.EndOfFileException;
import org.jline.reader.History;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code roost shell --user HANDLE}: the seed course's interactive client, on Roost. A failed
 * command prints its error and the session goes on; a failover shows {@code Reconnecting to
 * host:port...} and the command completes on the new leader.
 */
@Command(
    name = "shell",
    description = "Interactive session as one user: FOLLOW, UNFOLLOW, LIST, TIMELINE, POST.")
final class ShellCommand extends Verb.WithClient {
  private static final String HELP =
      String.join(
          "\n",
          "Commands (case-insensitive):",
          "  FOLLOW <handle>     follow a user",
          "  UNFOLLOW <handle>   stop following a user",
          "  LIST                all users, and who follows you",
          "  TIMELINE [n]        the newest n posts (default 20) of you and those you follow",
          "  POST <text>         post text",
          "  HISTORY             the commands of this session",
          "  HELP                this text",
          "  EXIT                leave");

  @Option(
      names = {"-u", "--user"},
      required = true,
      description = "Your handle (registered if new).")
  String handle;

  @Override
  public void run(RoostClient client) throws Exception {
    PrintWriter out = root().out();
    try (Terminal terminal = TerminalBuilder.builder().system(true).dumb(true).build()) {
      LineReader reader = LineReaderBuilder.builder().terminal(terminal).build();
      User me = login(client, out);
      out.println("Logged in as " + me.getHandle() + ". Type HELP for commands.");
      String prompt = me.getHandle() + "> ";
      while (true) {
        String line;
        try {
          line = reader.readLine(prompt);
        } catch (UserInterruptException e) {
          continue;
        } catch (EndOfFileException e) {
          return;
        }
        line = line.strip();
        if (line.isEmpty()) {
          continue;
        }
        String[] parts = line.split("\\s+", 2);
        String verb = parts[0].toUpperCase(Locale.ROOT);
        String arg = parts.length > 1 ? parts[1].strip() : "";
        if (verb.equals("EXIT") || verb.equals("QUIT")) {
          return;
        }
        try {
          execute(client, reader.getHistory(), out, me.getHandle(), verb, arg);
        } catch (RoostException e) {
          out.println("error: " + e.code() + ": " + Output.printable(e.getMessage()));
        } catch (IllegalArgumentException e) {
          out.println("error: INVALID_ARGUMENT: " + Output.printable(e.getMessage()));
        }
        out.flush();
      }
    }
  }

  private User login(RoostClient client, PrintWriter out) {
    try {
      return client.getUser(handle);
    } catch (RoostException e) {
      if (e.code() != dev.roost.proto.StatusCode.NOT_FOUND) {
        throw e;
      }
      User created = client.registerUser(handle, "");
      out.println("Registered new user " + created.getHandle() + ".");
      return created;
    }
  }

  private void execute(
      RoostClient client, History history, PrintWriter out, String me, String verb, String arg) {
    switch (verb) {
      case "FOLLOW" -> {
        requireArg(arg, "FOLLOW <handle>");
        boolean changed = client.follow(me, arg).getChanged();
        out.println(changed ? "Now following " + arg + "." : "Already following " + arg + ".");
      }
      case "UNFOLLOW" -> {
        requireArg(arg, "UNFOLLOW <handle>");
        boolean changed = client.unfollow(me, arg).getChanged();
        out.println(changed ? "Unfollowed " + arg + "." : "Was not following " + arg + ".");
      }
      case "LIST" -> {
        out.println("All users: " + handles(client.listUsers("", 200, "").getUsersList()));
        out.println("Your followers: " + handles(client.listFollowers(me, 200, "").getUsersList()));
      }
      case "TIMELINE" -> {
        int n = arg.isEmpty() ? 20 : parseCount(arg);
        PostPage page = client.timeline(me, n, "");
        if (page.getPostsCount() == 0) {
          out.println("(no posts yet)");
        }
        page.getPostsList()
            .forEach(
                p ->
                    out.println(
                        p.getAuthor()
                            + " ("
                            + Output.time(p.getTimestampMs())
                            + "): "
                            + Output.printable(p.getText())));
      }
      case "POST" -> {
        requireArg(arg, "POST <text>");
        out.println("Posted #" + client.post(me, arg).getId() + ".");
      }
      case "HISTORY" -> history.forEach(e -> out.println("  " + (e.index() + 1) + "  " + e.line()));
      case "HELP" -> out.println(HELP);
      default -> out.println("Unknown command '" + verb + "'. Type HELP for commands.");
    }
  }

  private static String handles(java.util.List<User> users) {
    return users.isEmpty()
        ? "(none)"
        : String.join(", ", users.stream().map(User::getHandle).toList());
  }

  private static void requireArg(String arg, String usage) {
    if (arg.isEmpty()) {
      throw new IllegalArgumentException("usage: " + usage);
    }
  }

  private static int parseCount(String arg) {
    try {
      return Integer.parseInt(arg);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("usage: TIMELINE [n]");
    }
  }
}

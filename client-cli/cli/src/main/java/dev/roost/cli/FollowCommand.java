package dev.roost.cli;

import dev.roost.client.RoostClient;
import dev.roost.proto.FollowResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The follow graph: {@code follow}, {@code unfollow}, {@code following}, {@code followers}. */
final class FollowCommand {
  private FollowCommand() {}

  private static void printChange(Output out, String verb, String a, String b, FollowResult r) {
    var json = out.object();
    json.put("follower", a.toLowerCase(java.util.Locale.ROOT));
    json.put("followee", b.toLowerCase(java.util.Locale.ROOT));
    json.put("changed", r.getChanged());
    out.result(
        json,
        r.getChanged()
            ? a + " " + verb + " " + b
            : a + " already " + verb + " " + b + " (no change)");
  }

  @Command(name = "follow", description = "Make A follow B (following twice changes nothing).")
  static final class Follow extends Verb.WithClient {
    @Parameters(index = "0", paramLabel = "A")
    String follower;

    @Parameters(index = "1", paramLabel = "B")
    String followee;

    @Override
    public void run(RoostClient client) {
      printChange(output(), "follows", follower, followee, client.follow(follower, followee));
    }
  }

  @Command(name = "unfollow", description = "Make A stop following B.")
  static final class Unfollow extends Verb.WithClient {
    @Parameters(index = "0", paramLabel = "A")
    String follower;

    @Parameters(index = "1", paramLabel = "B")
    String followee;

    @Override
    public void run(RoostClient client) {
      FollowResult r = client.unfollow(follower, followee);
      printChange(output(), "unfollowed", follower, followee, r);
    }
  }

  /** Options shared by the listings. */
  abstract static class Listing extends Verb.WithClient {
    @Parameters(paramLabel = "HANDLE")
    String handle;

    @Option(
        names = "--limit",
        defaultValue = "50",
        description = "Page size, 1-200 (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--page", defaultValue = "", description = "Page token from a previous page.")
    String page;
  }

  @Command(name = "following", description = "Whom HANDLE follows.")
  static final class Following extends Listing {
    @Override
    public void run(RoostClient client) {
      output().users(client.listFollowing(handle, limit, page));
    }
  }

  @Command(name = "followers", description = "Who follows HANDLE.")
  static final class Followers extends Listing {
    @Override
    public void run(RoostClient client) {
      output().users(client.listFollowers(handle, limit, page));
    }
  }
}

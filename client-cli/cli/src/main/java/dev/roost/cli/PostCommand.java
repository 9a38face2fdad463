package dev.roost.cli;

import dev.roost.client.RoostClient;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code post}, {@code posts} and {@code timeline}. */
@Command(name = "post", description = "Post TEXT as HANDLE (at most 280 characters).")
final class PostCommand extends Verb.WithClient {
  @Parameters(index = "0", paramLabel = "HANDLE")
  String author;

  @Parameters(
      index = "1..*",
      arity = "1..*",
      paramLabel = "TEXT",
      description = "The words of the post.")
  List<String> words;

  @Override
  public void run(RoostClient client) {
    output().post(client.post(author, String.join(" ", words)));
  }

  /** Options shared by the post listings. */
  abstract static class Listing extends Verb.WithClient {
    @Parameters(paramLabel = "HANDLE")
    String handle;

    @Option(
        names = "--limit",
        defaultValue = "20",
        description = "Page size, 1-200 (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(
        names = {"--before", "--page"},
        defaultValue = "",
        paramLabel = "CURSOR",
        description = "Cursor from a previous page: show older posts.")
    String before;
  }

  @Command(name = "posts", description = "HANDLE's own posts, newest first.")
  static final class Posts extends Listing {
    @Override
    public void run(RoostClient client) {
      output().posts(client.listPosts(handle, limit, before));
    }
  }

  @Command(
      name = "timeline",
      description = "Posts of HANDLE and of those HANDLE follows, newest first.")
  static final class Timeline extends Listing {
    @Override
    public void run(RoostClient client) {
      output().posts(client.timeline(handle, limit, before));
    }
  }
}

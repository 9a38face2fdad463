package dev.roost.chaos.workload;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roost.chaos.checker.Checker;
import dev.roost.chaos.checker.SocialChecker;
import dev.roost.chaos.history.Event;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.proto.Post;
import dev.roost.proto.PostPage;
import dev.roost.proto.StatusCode;
import dev.roost.proto.User;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * Users posting unique texts, following each other and reading timelines, then final reads of every
 * author's posts and every user's followees once the faults are healed. Nothing is ever deleted or
 * unfollowed, which {@link SocialChecker} relies on.
 */
public final class SocialWorkload implements Workload {
  static final int TIMELINE_PAGE = 20;
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final List<String> users;

  /** A workload over {@code userCount} users. */
  public SocialWorkload(int userCount) {
    this.users = IntStream.range(0, userCount).mapToObj(i -> "user" + i).toList();
  }

  @Override
  public String name() {
    return "social";
  }

  @Override
  public void setup(int process, RoostClient client, Recorder recorder) {
    for (String u : users) {
      retry(
          () ->
              recorder.record(
                  process,
                  "register",
                  u,
                  NullNode.getInstance(),
                  () -> {
                    try {
                      client.registerUser(u, u);
                    } catch (RoostException e) {
                      // a retried registration that did apply the first time
                      if (e.code() != StatusCode.ALREADY_EXISTS) {
                        throw e;
                      }
                    }
                    return NullNode.getInstance();
                  }));
    }
  }

  @Override
  public void run(
      int process, RoostClient client, Recorder recorder, Random random, BooleanSupplier done) {
    long seq = 0;
    while (!done.getAsBoolean()) {
      int dice = random.nextInt(20);
      String user = users.get(random.nextInt(users.size()));
      if (dice < 9) {
        String text = "p" + process + "-" + seq++;
        recorder.record(
            process,
            "post",
            user,
            NODES.textNode(text),
            () -> NODES.numberNode(client.post(user, text).getId()));
      } else if (dice < 17) {
        recorder.record(
            process,
            "timeline",
            user,
            NODES.numberNode(TIMELINE_PAGE),
            () -> page(client.timeline(user, TIMELINE_PAGE, "")));
      } else {
        String other = users.get(random.nextInt(users.size()));
        if (!other.equals(user)) {
          recorder.record(
              process,
              "follow",
              user,
              NODES.textNode(other),
              () -> NODES.booleanNode(client.follow(user, other).getChanged()));
        }
      }
    }
  }

  private static ArrayNode page(PostPage page) {
    ArrayNode a = NODES.arrayNode();
    page.getPostsList().stream().map(SocialWorkload::post).forEach(a::add);
    return a;
  }

  private static ObjectNode post(Post p) {
    return NODES
        .objectNode()
        .put("id", p.getId())
        .put("author", p.getAuthor())
        .put("text", p.getText());
  }

  @Override
  public void finalReads(int process, RoostClient client, Recorder recorder) {
    for (String u : users) {
      retry(
          () ->
              recorder.record(
                  process,
                  "final-posts",
                  u,
                  NullNode.getInstance(),
                  () -> {
                    ArrayNode all = NODES.arrayNode();
                    client.allPosts(u).map(SocialWorkload::post).forEach(all::add);
                    return all;
                  }));
      retry(
          () ->
              recorder.record(
                  process,
                  "final-following",
                  u,
                  NullNode.getInstance(),
                  () -> {
                    ArrayNode all = NODES.arrayNode();
                    client.allFollowing(u).map(User::getHandle).forEach(all::add);
                    return all;
                  }));
    }
  }

  /** Repeats a recorded operation until it is ok, at most ten times. */
  private static void retry(Supplier<Event> attempt) {
    for (int i = 0; i < 10; i++) {
      if (attempt.get().type() == Event.Type.OK) {
        return;
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public List<Checker> checkers(Duration timeLimit) {
    return List.of(new SocialChecker());
  }
}

package dev.roost.chaos.checker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.roost.chaos.history.Event;
import dev.roost.chaos.history.History;
import dev.roost.chaos.history.Operation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks the social workload's history: no lost, duplicated or phantom posts, timelines newest
 * first that never go back in time, and acknowledged follows and posts visible to later reads.
 *
 * <p>Operations, as the history file holds them:
 *
 * <ul>
 *   <li>{@code post}: key the author, invocation value the text (unique per run), ok value the post
 *       id;
 *   <li>{@code follow}: key the follower, invocation value the followee;
 *   <li>{@code timeline}: key the user, invocation value the page size, ok value the page: an array
 *       of {@code {"id", "author", "text"}} as the server returned it;
 *   <li>{@code final-posts}: key an author, ok value all the author's posts, read after the faults
 *       healed; {@code final-following}: key a user, ok value the handles the user follows.
 * </ul>
 *
 * <p>What must hold (the workload never deletes posts and never unfollows, which several checks
 * rely on):
 *
 * <ol>
 *   <li>every {@code ok} post is in its author's final read exactly once, an {@code info} post at
 *       most once, a {@code fail} post never, and nothing else is there;
 *   <li>every timeline page is in strictly decreasing id order without repeats, and shows only
 *       posts that were sent;
 *   <li>a timeline read invoked after another read of the same timeline completed shows every post
 *       the earlier one showed within the later page's id range (the page holds the newest posts,
 *       so the range is from its oldest id up; a page shorter than its size covers all ids);
 *   <li>a timeline read invoked after a post by the user, or by an account whose follow was
 *       acknowledged, completed ok shows that post within the page's id range;
 *   <li>every {@code ok} follow is in the follower's final read of followees.
 * </ol>
 */
public final class SocialChecker implements Checker {

  @Override
  public String name() {
    return "social";
  }

  /** A post as read: id, author and text. */
  private record Seen(long id, String author, String text) {}

  @Override
  public CheckResult check(History history) {
    List<Operation> ops = history.operations();
    List<Anomaly> anomalies = new ArrayList<>();
    Map<String, Operation> postsByText = new HashMap<>();
    List<Operation> timelines = new ArrayList<>();
    Map<String, List<Operation>> followsOf = new HashMap<>();
    Map<String, Operation> finalPosts = new HashMap<>();
    Map<String, Operation> finalFollowing = new HashMap<>();
    int ok = 0;
    for (Operation op : ops) {
      boolean isOk = op.outcome() == Event.Type.OK;
      switch (op.f()) {
        case "post" -> {
          postsByText.put(op.invoke().value().asText(), op);
          ok += isOk ? 1 : 0;
        }
        case "timeline" -> {
          if (isOk) {
            timelines.add(op);
            ok++;
          }
        }
        case "follow" -> followsOf.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        case "final-posts" -> {
          if (isOk) {
            finalPosts.put(op.key(), op);
          }
        }
        case "final-following" -> {
          if (isOk) {
            finalFollowing.put(op.key(), op);
          }
        }
        default -> {
          // other operations (user registration) are setup, not checked here
        }
      }
    }
    if (ok == 0) {
      return new CheckResult(
          name(),
          Verdict.INVALID,
          List.of(
              new Anomaly("no-ok-operation", "no post or timeline read completed ok", List.of())),
          "nothing to check");
    }
    List<String> unchecked = new ArrayList<>();
    checkFinalPosts(postsByText, finalPosts, anomalies, unchecked);
    checkFollows(followsOf, finalFollowing, anomalies, unchecked);
    checkTimelines(timelines, postsByText, followsOf, anomalies);
    Verdict verdict =
        !anomalies.isEmpty()
            ? Verdict.INVALID
            : unchecked.isEmpty() ? Verdict.VALID : Verdict.UNKNOWN;
    String note =
        postsByText.size()
            + " posts sent, "
            + timelines.size()
            + " timeline reads checked"
            + (unchecked.isEmpty() ? "" : "; no final read of " + String.join(", ", unchecked));
    return new CheckResult(name(), verdict, anomalies, note);
  }

  private static void checkFinalPosts(
      Map<String, Operation> postsByText,
      Map<String, Operation> finalPosts,
      List<Anomaly> anomalies,
      List<String> unchecked) {
    Map<String, Integer> copies = new HashMap<>();
    for (Operation read : finalPosts.values()) {
      for (Seen s : page(read)) {
        copies.merge(s.text(), 1, Integer::sum);
        Operation post = postsByText.get(s.text());
        if (post == null || !post.key().equals(s.author())) {
          anomalies.add(
              new Anomaly(
                  "phantom-post",
                  "final read of " + read.key() + " has a post that was never sent: " + s,
                  List.of(read.describe())));
        }
      }
    }
    Set<String> authorsWithoutFinal = new HashSet<>();
    for (Operation post : postsByText.values()) {
      if (!finalPosts.containsKey(post.key())) {
        authorsWithoutFinal.add(post.key());
        continue;
      }
      int n = copies.getOrDefault(post.invoke().value().asText(), 0);
      Event.Type outcome = post.outcome();
      if (outcome == Event.Type.OK && n == 0) {
        anomalies.add(
            new Anomaly(
                "lost-post",
                "acknowledged post missing from its author's final read",
                List.of(post.describe(), finalPosts.get(post.key()).describe())));
      } else if (outcome == Event.Type.FAIL && n > 0) {
        anomalies.add(
            new Anomaly(
                "failed-post-applied",
                "a post reported as surely failed is in the final read",
                List.of(post.describe())));
      } else if (n > 1) {
        anomalies.add(
            new Anomaly(
                "duplicate-post",
                "post present " + n + " times in its author's final read",
                List.of(post.describe())));
      }
    }
    unchecked.addAll(authorsWithoutFinal.stream().sorted().toList());
  }

  private static void checkFollows(
      Map<String, List<Operation>> followsOf,
      Map<String, Operation> finalFollowing,
      List<Anomaly> anomalies,
      List<String> unchecked) {
    for (Map.Entry<String, List<Operation>> e : followsOf.entrySet()) {
      Operation read = finalFollowing.get(e.getKey());
      if (read == null) {
        unchecked.add("following of " + e.getKey());
        continue;
      }
      Set<String> following = new HashSet<>();
      read.completion().value().forEach(n -> following.add(n.asText()));
      for (Operation follow : e.getValue()) {
        if (follow.outcome() == Event.Type.OK
            && !following.contains(follow.invoke().value().asText())) {
          anomalies.add(
              new Anomaly(
                  "lost-follow",
                  "acknowledged follow missing from the final read",
                  List.of(follow.describe(), read.describe())));
        }
      }
    }
  }

  private static void checkTimelines(
      List<Operation> timelines,
      Map<String, Operation> postsByText,
      Map<String, List<Operation>> followsOf,
      List<Anomaly> anomalies) {
    Map<String, List<Operation>> byUser = new HashMap<>();
    for (Operation t : timelines) {
      byUser.computeIfAbsent(t.key(), k -> new ArrayList<>()).add(t);
    }
    // Acknowledged posts by author, by completion time: what a later read must show.
    Map<String, List<Operation>> ackedPostsBy = new HashMap<>();
    for (Operation p : postsByText.values()) {
      if (p.outcome() == Event.Type.OK) {
        ackedPostsBy.computeIfAbsent(p.key(), k -> new ArrayList<>()).add(p);
      }
    }
    for (Map.Entry<String, List<Operation>> e : byUser.entrySet()) {
      String user = e.getKey();
      List<Operation> reads = e.getValue();
      List<Operation> byCompletion = new ArrayList<>(reads);
      byCompletion.sort(Comparator.comparingLong(o -> o.completion().time()));
      List<Operation> byInvoke = new ArrayList<>(reads);
      byInvoke.sort(Comparator.comparingLong(o -> o.invoke().time()));
      // Posts shown by reads completed so far (in invocation order of the current read), by id.
      NavigableMap<Long, Operation> shown = new TreeMap<>();
      int done = 0;
      for (Operation read : byInvoke) {
        while (done < byCompletion.size()
            && byCompletion.get(done).completion().time() < read.invoke().time()) {
          for (Seen s : page(byCompletion.get(done))) {
            shown.putIfAbsent(s.id(), byCompletion.get(done));
          }
          done++;
        }
        List<Seen> page = page(read);
        if (!checkPage(read, page, postsByText, anomalies)) {
          continue;
        }
        int limit = read.invoke().value().asInt(Integer.MAX_VALUE);
        long floor =
            page.size() < limit || page.isEmpty() ? Long.MIN_VALUE : page.get(page.size() - 1).id();
        Set<Long> ids = new HashSet<>();
        page.forEach(s -> ids.add(s.id()));
        for (Map.Entry<Long, Operation> earlier : shown.tailMap(floor, true).entrySet()) {
          if (!ids.contains(earlier.getKey())) {
            anomalies.add(
                new Anomaly(
                    "timeline-went-back",
                    "timeline of "
                        + user
                        + " lost post "
                        + earlier.getKey()
                        + " that an earlier completed read showed",
                    List.of(earlier.getValue().describe(), read.describe())));
            break;
          }
        }
        Set<String> authors = new HashSet<>();
        authors.add(user);
        for (Operation f : followsOf.getOrDefault(user, List.of())) {
          if (f.outcome() == Event.Type.OK && f.completion().time() < read.invoke().time()) {
            authors.add(f.invoke().value().asText());
          }
        }
        for (String author : authors) {
          for (Operation p : ackedPostsBy.getOrDefault(author, List.of())) {
            long id = p.completion().value().asLong();
            if (p.completion().time() < read.invoke().time() && id >= floor && !ids.contains(id)) {
              anomalies.add(
                  new Anomaly(
                      "stale-timeline",
                      "timeline of " + user + " misses a post acknowledged before the read began",
                      List.of(p.describe(), read.describe())));
            }
          }
        }
      }
    }
  }

  /** Checks one page on its own; false if it is too broken to compare with others. */
  private static boolean checkPage(
      Operation read, List<Seen> page, Map<String, Operation> postsByText, List<Anomaly> out) {
    for (int i = 1; i < page.size(); i++) {
      if (page.get(i).id() >= page.get(i - 1).id()) {
        out.add(
            new Anomaly(
                "timeline-order",
                "timeline page not strictly newest first at position " + i,
                List.of(read.describe())));
        return false;
      }
    }
    for (Seen s : page) {
      Operation post = postsByText.get(s.text());
      if (post == null || post.outcome() == Event.Type.FAIL || !post.key().equals(s.author())) {
        out.add(
            new Anomaly(
                "phantom-post",
                "timeline shows a post that was never sent, or surely failed: " + s,
                List.of(read.describe())));
        return false;
      }
    }
    return true;
  }

  private static List<Seen> page(Operation read) {
    List<Seen> page = new ArrayList<>();
    for (JsonNode n : read.completion().value()) {
      page.add(new Seen(n.get("id").asLong(), n.get("author").asText(), n.get("text").asText()));
    }
    return page;
  }
}

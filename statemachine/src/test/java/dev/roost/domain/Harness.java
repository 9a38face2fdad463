package dev.roost.domain;

import dev.roost.domain.Query.PageRequest;
import java.util.ArrayList;
import java.util.List;

/** Drives a {@link RoostState} the way the log does: increasing indexes, one client's ids. */
final class Harness {
  final RoostState state;
  long index;
  long clock = 1_000;
  private long sequence;

  Harness() {
    this(Limits.DEFAULT);
  }

  Harness(Limits limits) {
    state = new RoostState(limits);
  }

  Result apply(Command command) {
    return state.apply(new RequestId("test-client", ++sequence), command, ++index, clock++);
  }

  Result query(Query query) {
    return state.query(query);
  }

  Result register(String handle) {
    return apply(new Command.RegisterUser(handle, ""));
  }

  Result follow(String a, String b) {
    return apply(new Command.Follow(a, b));
  }

  long post(String author, String text) {
    Result r = apply(new Command.CreatePost(author, text));
    if (!r.isOk()) {
      throw new AssertionError("post failed: " + r);
    }
    return ((Payload.Post) r.payload()).id();
  }

  /** Every post of the timeline of {@code handle}, paging with {@code pageSize}. */
  List<Payload.Post> wholeTimeline(String handle, int pageSize) {
    List<Payload.Post> all = new ArrayList<>();
    String token = "";
    do {
      Result r = query(new Query.GetTimeline(handle, new PageRequest(pageSize, token)));
      if (!r.isOk()) {
        throw new AssertionError("timeline failed: " + r);
      }
      Payload.PostPage page = (Payload.PostPage) r.payload();
      all.addAll(page.posts());
      token = page.nextToken();
    } while (!token.isEmpty());
    return all;
  }
}

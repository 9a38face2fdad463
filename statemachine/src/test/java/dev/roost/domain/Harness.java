package dev.roost.domain;

import dev.roost.domain.Query.PageRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives a {@link RoostState} the way the log does: increasing indexes, the writes of one session
 * unless a test names others.
 */
final class Harness {
  final RoostState state;
  long index;
  long clock = 1_000;
  private long sequence;
  private final Map<String, Long> sessions = new HashMap<>();

  Harness() {
    this(Limits.DEFAULT);
  }

  Harness(Limits limits) {
    state = new RoostState(limits);
  }

  Result apply(Command command) {
    return state.apply(id("test-client", ++sequence), command, ++index, clock++);
  }

  /**
   * Request {@code sequence} of the session named {@code client}, opened on first use; it claims no
   * reply seen, so the session keeps every reply its window allows.
   */
  RequestId id(String client, long sequence) {
    long session =
        sessions.computeIfAbsent(
            client,
            c -> {
              long id = sessions.size() + 1;
              Result opened = state.openSession(id, clock);
              if (!opened.isOk()) {
                throw new AssertionError("cannot open a session: " + opened);
              }
              return id;
            });
    return new RequestId(session, sequence, 1);
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

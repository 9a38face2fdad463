package dev.roost.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roost.domain.Command.Expect;
import dev.roost.domain.Query.PageRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Properties of the domain over random command sequences: determinism, snapshot fidelity and
 * timeline ordering. Each property runs over many seeded sequences; a failure names its seed, and
 * {@link #steps(long)} with that seed reproduces the sequence.
 */
class RoostStatePropertiesTest {
  private static final List<String> HANDLES = List.of("alice", "bob", "carol", "dave", "Eve", "x!");
  private static final List<String> KEYS = List.of("a", "a/b", "b", "c");
  private static final List<String> TEXT_PIECES = List.of("a", "b", " ", "\n", "🐦");
  // Three sessions of five ids open at once, four replies each, a 20 ms timeout against clocks of
  // 0 to 50 ms: sessions expire, get evicted and forget replies within one sequence.
  private static final Limits LIMITS = new Limits(20, 3, 4, 20, Quotas.DEFAULT);
  private static final int SEQUENCES = 300;

  /**
   * A command with the request id it is sent under (repeats exercise de-duplication), or, with no
   * command, the opening of session {@code session}.
   */
  record Step(Command command, long session, long sequence, long firstUnanswered, long clockMs) {
    Result applyTo(RoostState state, long index) {
      return command == null
          ? state.openSession(session, clockMs)
          : state.apply(new RequestId(session, sequence, firstUnanswered), command, index, clockMs);
    }
  }

  /** A random sequence of up to 120 steps over a small alphabet, so that commands collide. */
  static List<Step> steps(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int n = r.nextInt(121);
    List<Step> steps = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      long session = 1 + r.nextInt(5);
      long sequence = 1 + r.nextInt(12);
      steps.add(
          new Step(
              r.nextInt(6) == 0 ? null : command(r),
              session,
              sequence,
              1 + r.nextLong(sequence),
              r.nextInt(51)));
    }
    return steps;
  }

  private static Command command(SplittableRandom r) {
    return switch (r.nextInt(12)) {
      case 0, 1 -> new Command.RegisterUser(pick(r, HANDLES), "");
      case 2, 3 -> new Command.Follow(pick(r, HANDLES), pick(r, HANDLES));
      case 4 -> new Command.Unfollow(pick(r, HANDLES), pick(r, HANDLES));
      case 5, 6, 7 -> new Command.CreatePost(pick(r, HANDLES), text(r));
      case 8 -> new Command.KvPut(pick(r, KEYS), value(r));
      case 9 -> new Command.KvDelete(pick(r, KEYS));
      case 10 ->
          new Command.KvCompareAndSet(pick(r, KEYS), new Expect.ValueEquals(value(r)), value(r));
      default ->
          new Command.KvCompareAndSet(
              pick(r, KEYS), new Expect.VersionEquals(r.nextInt(4)), value(r));
    };
  }

  private static <T> T pick(SplittableRandom r, List<T> from) {
    return from.get(r.nextInt(from.size()));
  }

  private static String text(SplittableRandom r) {
    StringBuilder b = new StringBuilder();
    for (int i = r.nextInt(26); i > 0; i--) {
      b.append(pick(r, TEXT_PIECES));
    }
    return b.toString();
  }

  private static byte[] value(SplittableRandom r) {
    byte[] v = new byte[r.nextInt(4)];
    r.nextBytes(v);
    return v;
  }

  private static List<Result> run(RoostState state, List<Step> steps, long firstIndex) {
    List<Result> results = new ArrayList<>();
    long index = firstIndex;
    for (Step s : steps) {
      results.add(s.applyTo(state, index++));
    }
    return results;
  }

  @Test
  void sameCommandsGiveSameRepliesAndState() {
    for (long seed = 1; seed <= SEQUENCES; seed++) {
      List<Step> steps = steps(seed);
      RoostState a = new RoostState(LIMITS);
      RoostState b = new RoostState(LIMITS);
      assertThat(run(a, steps, 1)).as("seed %d", seed).isEqualTo(run(b, steps, 1));
      assertThat(a.digest()).as("seed %d", seed).isEqualTo(b.digest());
      assertThat(answers(a)).as("seed %d", seed).isEqualTo(answers(b));
    }
  }

  @Test
  void snapshotThenReplayEqualsLiveState() throws IOException {
    for (long seed = 1; seed <= SEQUENCES; seed++) {
      List<Step> steps = steps(seed);
      int n = new SplittableRandom(-seed).nextInt(steps.size() + 1);
      RoostState live = new RoostState(LIMITS);
      run(live, steps.subList(0, n), 1);

      RoostState restored = roundTrip(live);
      assertThat(restored.digest()).as("seed %d", seed).isEqualTo(live.digest());
      assertThat(answers(restored)).as("seed %d", seed).isEqualTo(answers(live));

      // Replaying the rest of the log on the restored state gives the same replies and state as
      // the live state applying it.
      List<Step> rest = steps.subList(n, steps.size());
      assertThat(run(restored, rest, n + 1)).as("seed %d", seed).isEqualTo(run(live, rest, n + 1));
      assertThat(restored.digest()).as("seed %d", seed).isEqualTo(live.digest());
      assertThat(answers(restored)).as("seed %d", seed).isEqualTo(answers(live));
    }
  }

  @Test
  void theDigestKeptByWritesEqualsOneSummedFromScratch() throws IOException {
    // The live state updates its digest write by write; a state read from a snapshot sums it anew
    // from every item. Any write that changed an item without telling the hash shows up here.
    for (long seed = 1; seed <= SEQUENCES; seed++) {
      RoostState state = new RoostState(LIMITS);
      long index = 1;
      for (Step s : steps(seed)) {
        s.applyTo(state, index++);
        assertThat(roundTrip(state).digest())
            .as("seed %d, index %d", seed, index)
            .isEqualTo(state.digest());
      }
    }
  }

  @Test
  void readersAskingForTheDigestAtOnceAllGetTheSameOne() throws Exception {
    // Queries run under a read lock, so several may ask for the digest of one state together.
    RoostState state = new RoostState(LIMITS);
    run(state, steps(7), 1);
    String expected = state.digest().sha256();
    ExecutorService readers = Executors.newFixedThreadPool(4);
    try {
      List<Future<Set<String>>> seen = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        seen.add(
            readers.submit(
                () -> {
                  Set<String> digests = new HashSet<>();
                  for (int i = 0; i < 20_000; i++) {
                    digests.add(state.digest().sha256());
                  }
                  return digests;
                }));
      }
      for (Future<Set<String>> f : seen) {
        assertThat(f.get()).containsExactly(expected);
      }
    } finally {
      readers.shutdownNow();
    }
  }

  @Test
  void theDigestTellsApartStatesThatDifferInOneItem() {
    for (long seed = 1; seed <= SEQUENCES; seed++) {
      List<Step> steps = steps(seed);
      RoostState a = new RoostState(LIMITS);
      RoostState b = new RoostState(LIMITS);
      run(a, steps, 1);
      run(b, steps, 1);
      // One more write that changes a key's value and nothing a count shows.
      byte[] value = {(byte) seed, 1, 2};
      RequestId id = new RequestId(99, 1, 1);
      a.openSession(99, 0);
      b.openSession(99, 0);
      a.apply(id, new Command.KvPut("a", value), steps.size() + 1, 0);
      value[2] = 3;
      b.apply(id, new Command.KvPut("a", value), steps.size() + 1, 0);
      assertThat(a.digest().keys()).isEqualTo(b.digest().keys());
      assertThat(a.digest().sha256()).as("seed %d", seed).isNotEqualTo(b.digest().sha256());
    }
  }

  /**
   * Log indexes for {@code n} steps cut into entries of 1 to 5 writes, as batches make them: the
   * index grows by one per entry and the writes of one entry share it.
   */
  static long[] batchedIndexes(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed * 31 + 7);
    long[] indexes = new long[n];
    long index = 0;
    int leftInEntry = 0;
    for (int i = 0; i < n; i++) {
      if (leftInEntry == 0) {
        index++;
        leftInEntry = 1 + r.nextInt(5);
      }
      indexes[i] = index;
      leftInEntry--;
    }
    return indexes;
  }

  @Test
  void entriesWithSeveralWritesKeepPostIdsUniqueAndIncreasingAcrossASnapshot() throws IOException {
    for (long seed = 1; seed <= SEQUENCES; seed++) {
      List<Step> steps = steps(seed);
      int n = steps.size();
      long[] indexes = batchedIndexes(seed, n);
      // A snapshot between two entries, as Ratis takes them.
      int cut = new SplittableRandom(-seed).nextInt(n + 1);
      while (cut > 0 && cut < n && indexes[cut] == indexes[cut - 1]) {
        cut++;
      }
      RoostState live = new RoostState(LIMITS);
      RoostState restored = null;
      long lastId = 0;
      for (int i = 0; i < n; i++) {
        if (i == cut) {
          restored = roundTrip(live);
        }
        Step s = steps.get(i);
        long postsBefore = live.postCount();
        Result r = s.applyTo(live, indexes[i]);
        if (restored != null) {
          assertThat(s.applyTo(restored, indexes[i])).as("seed %d, step %d", seed, i).isEqualTo(r);
        }
        if (live.postCount() > postsBefore) {
          long postId = ((Payload.Post) r.payload()).id();
          assertThat(postId)
              .as("seed %d, step %d: a new post's id", seed, i)
              .isGreaterThan(lastId)
              .isGreaterThanOrEqualTo(indexes[i]);
          lastId = postId;
        }
      }
      if (restored != null) {
        assertThat(restored.digest()).as("seed %d", seed).isEqualTo(live.digest());
        assertThat(answers(restored)).as("seed %d", seed).isEqualTo(answers(live));
      }
    }
  }

  @Test
  void timelinesAreNewestFirstWithoutDuplicatesAcrossPages() {
    for (long seed = 1; seed <= SEQUENCES; seed++) {
      RoostState state = new RoostState(LIMITS);
      run(state, steps(seed), 1);
      int pageSize = 1 + (int) (seed % 7);
      for (String h : List.of("alice", "bob", "carol", "dave", "eve")) {
        List<Long> ids = new ArrayList<>();
        String token = "";
        do {
          Result r = state.query(new Query.GetTimeline(h, new PageRequest(pageSize, token)));
          if (r.code() == Code.NOT_FOUND) {
            break;
          }
          Payload.PostPage page = (Payload.PostPage) r.payload();
          assertThat(page.posts().size()).isLessThanOrEqualTo(pageSize);
          page.posts().forEach(p -> ids.add(p.id()));
          token = page.nextToken();
        } while (!token.isEmpty());
        for (int i = 1; i < ids.size(); i++) {
          assertThat(ids.get(i)).as("seed %d, %s", seed, h).isLessThan(ids.get(i - 1));
        }
        Result whole = state.query(new Query.GetTimeline(h, new PageRequest(200, "")));
        if (whole.isOk()) {
          assertThat(((Payload.PostPage) whole.payload()).posts())
              .as("seed %d, %s", seed, h)
              .extracting(Payload.Post::id)
              .containsExactlyElementsOf(ids);
        }
      }
    }
  }

  @Test
  void corruptingAnyByteIsDetected() throws IOException {
    for (long seed = 1; seed <= 100; seed++) {
      RoostState state = new RoostState(LIMITS);
      run(state, steps(seed), 1);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      SnapshotFormat.write(state, out);
      byte[] bytes = out.toByteArray();
      bytes[new SplittableRandom(seed).nextInt(bytes.length)] ^= 0x5A;
      // Caught by the checksum pass, and by the reader alone too.
      assertThatThrownBy(() -> SnapshotFormat.verify(new ByteArrayInputStream(bytes)))
          .as("seed %d", seed)
          .isInstanceOf(SnapshotFormat.CorruptSnapshotException.class);
      assertThatThrownBy(() -> SnapshotFormat.read(new ByteArrayInputStream(bytes), bytes.length))
          .as("seed %d", seed)
          .isInstanceOf(SnapshotFormat.CorruptSnapshotException.class);
    }
  }

  static RoostState roundTrip(RoostState state) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SnapshotFormat.write(state, out);
    return SnapshotFormatTest.load(out.toByteArray());
  }

  /** The answers to every kind of query over the handles and keys the generator uses. */
  static List<Result> answers(RoostState s) {
    List<Result> all = new ArrayList<>();
    PageRequest small = new PageRequest(3, "");
    for (String h : HANDLES) {
      all.add(s.query(new Query.GetUser(h)));
      all.add(s.query(new Query.ListFollowing(h, small)));
      all.add(s.query(new Query.ListFollowers(h, small)));
      all.add(s.query(new Query.ListPosts(h, small)));
      all.add(s.query(new Query.GetTimeline(h, new PageRequest(200, ""))));
    }
    all.add(s.query(new Query.ListUsers("", new PageRequest(200, ""))));
    for (String k : KEYS) {
      all.add(s.query(new Query.KvGet(k)));
    }
    all.add(s.query(new Query.KvList("a", small)));
    all.add(s.query(new Query.KvList("", new PageRequest(200, ""))));
    return all;
  }
}

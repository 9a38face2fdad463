package dev.roost.domain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.domain.Command.Expect;
import dev.roost.domain.Query.PageRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Properties of the domain over random command sequences: determinism, snapshot fidelity and
 * timeline ordering.
 */
class RoostStatePropertiesTest {
  private static final List<String> HANDLES = List.of("alice", "bob", "carol", "dave", "Eve", "x!");
  private static final List<String> KEYS = List.of("a", "a/b", "b", "c");
  private static final Limits LIMITS = new Limits(20, 3, 4);

  /** A command with the request id it is sent under (repeats exercise de-duplication). */
  record Step(Command command, String client, long sequence, long clockMs) {}

  @Provide
  Arbitrary<List<Step>> steps() {
    Arbitrary<String> handle = Arbitraries.of(HANDLES);
    Arbitrary<String> key = Arbitraries.of(KEYS);
    Arbitrary<byte[]> value = Arbitraries.bytes().array(byte[].class).ofMaxSize(3);
    Arbitrary<String> text =
        Arbitraries.strings().withChars("ab \n🐦").ofMinLength(0).ofMaxLength(25);
    Arbitrary<Command> command =
        Arbitraries.oneOf(
            handle.map(h -> new Command.RegisterUser(h, "")),
            handle.map(h -> new Command.RegisterUser(h, "")),
            Combinators.combine(handle, handle).as(Command.Follow::new),
            Combinators.combine(handle, handle).as(Command.Follow::new),
            Combinators.combine(handle, handle).as(Command.Unfollow::new),
            Combinators.combine(handle, text).as(Command.CreatePost::new),
            Combinators.combine(handle, text).as(Command.CreatePost::new),
            Combinators.combine(handle, text).as(Command.CreatePost::new),
            Combinators.combine(key, value).as(Command.KvPut::new),
            key.map(Command.KvDelete::new),
            Combinators.combine(key, value, value)
                .as((k, e, v) -> new Command.KvCompareAndSet(k, new Expect.ValueEquals(e), v)),
            Combinators.combine(key, Arbitraries.longs().between(0, 3), value)
                .as((k, e, v) -> new Command.KvCompareAndSet(k, new Expect.VersionEquals(e), v)));
    Arbitrary<Step> step =
        Combinators.combine(
                command,
                Arbitraries.of("c1", "c2", "c3", "c4"),
                Arbitraries.longs().between(1, 12),
                Arbitraries.longs().between(0, 50))
            .as(Step::new);
    return step.list().ofMaxSize(120);
  }

  private static List<Result> run(RoostState state, List<Step> steps, long firstIndex) {
    List<Result> results = new ArrayList<>();
    long index = firstIndex;
    for (Step s : steps) {
      results.add(
          state.apply(new RequestId(s.client(), s.sequence()), s.command(), index++, s.clockMs()));
    }
    return results;
  }

  @Property(tries = 300)
  void sameCommandsGiveSameRepliesAndState(@ForAll("steps") List<Step> steps) {
    RoostState a = new RoostState(LIMITS);
    RoostState b = new RoostState(LIMITS);
    assertThat(run(a, steps, 1)).isEqualTo(run(b, steps, 1));
    assertThat(a.digest()).isEqualTo(b.digest());
    assertThat(answers(a)).isEqualTo(answers(b));
  }

  @Property(tries = 300)
  void snapshotThenReplayEqualsLiveState(
      @ForAll("steps") List<Step> steps, @ForAll @IntRange(min = 0, max = 120) int cut)
      throws IOException {
    int n = Math.min(cut, steps.size());
    RoostState live = new RoostState(LIMITS);
    run(live, steps.subList(0, n), 1);

    RoostState restored = roundTrip(live);
    assertThat(restored.digest()).isEqualTo(live.digest());
    assertThat(answers(restored)).isEqualTo(answers(live));

    // Replaying the rest of the log on the restored state gives the same replies and state as
    // the live state applying it.
    List<Step> rest = steps.subList(n, steps.size());
    assertThat(run(restored, rest, n + 1)).isEqualTo(run(live, rest, n + 1));
    assertThat(restored.digest()).isEqualTo(live.digest());
    assertThat(answers(restored)).isEqualTo(answers(live));
  }

  @Property(tries = 200)
  void timelinesAreNewestFirstWithoutDuplicatesAcrossPages(
      @ForAll("steps") List<Step> steps, @ForAll @IntRange(min = 1, max = 7) int pageSize) {
    RoostState state = new RoostState(LIMITS);
    run(state, steps, 1);
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
        assertThat(ids.get(i)).isLessThan(ids.get(i - 1));
      }
      Result whole = state.query(new Query.GetTimeline(h, new PageRequest(200, "")));
      if (whole.isOk()) {
        assertThat(((Payload.PostPage) whole.payload()).posts())
            .extracting(Payload.Post::id)
            .containsExactlyElementsOf(ids);
      }
    }
  }

  @Property(tries = 50)
  void corruptingAnyByteIsDetected(
      @ForAll("steps") @Size(min = 5) List<Step> steps,
      @ForAll @IntRange(min = 0, max = 10_000) int at)
      throws IOException {
    RoostState state = new RoostState(LIMITS);
    run(state, steps, 1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SnapshotFormat.write(state, out);
    byte[] bytes = out.toByteArray();
    bytes[at % bytes.length] ^= 0x5A;
    try {
      SnapshotFormat.read(new ByteArrayInputStream(bytes), LIMITS);
      throw new AssertionError("a corrupt snapshot was loaded");
    } catch (SnapshotFormat.CorruptSnapshotException expected) {
      assertThat(expected.getMessage()).isNotBlank();
    }
  }

  static RoostState roundTrip(RoostState state) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SnapshotFormat.write(state, out);
    return SnapshotFormat.read(new ByteArrayInputStream(out.toByteArray()), state.limits());
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

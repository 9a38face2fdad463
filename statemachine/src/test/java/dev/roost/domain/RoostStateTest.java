package dev.roost.domain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.domain.Command.CreatePost;
import dev.roost.domain.Command.Expect;
import dev.roost.domain.Command.Follow;
import dev.roost.domain.Command.KvCompareAndSet;
import dev.roost.domain.Command.KvDelete;
import dev.roost.domain.Command.KvPut;
import dev.roost.domain.Command.RegisterUser;
import dev.roost.domain.Command.Unfollow;
import dev.roost.domain.Payload.FollowResult;
import dev.roost.domain.Payload.KvEntry;
import dev.roost.domain.Payload.KvPage;
import dev.roost.domain.Payload.Post;
import dev.roost.domain.Payload.PostPage;
import dev.roost.domain.Payload.User;
import dev.roost.domain.Payload.UserPage;
import dev.roost.domain.Query.PageRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RoostStateTest {
  private final Harness h = new Harness();

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Nested
  class Users {
    @Test
    void registersAndFoldsCase() {
      Result r = h.apply(new RegisterUser("Alice_1", "  Alice A.  "));
      assertThat(r.isOk()).isTrue();
      User u = (User) r.payload();
      assertThat(u.handle()).isEqualTo("alice_1");
      assertThat(u.displayName()).isEqualTo("Alice A.");
      assertThat(u.createdAtMs()).isEqualTo(1_000);
      assertThat(h.query(new Query.GetUser("ALICE_1")).payload()).isEqualTo(u);
    }

    @Test
    void duplicateHandleIsAlreadyExistsWhateverTheCase() {
      h.register("alice");
      assertThat(h.register("ALICE").code()).isEqualTo(Code.ALREADY_EXISTS);
      assertThat(h.state.userCount()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "",
          "ab",
          "1abc",
          "_abc",
          "al ice",
          "alice!",
          "ålice",
          "a23456789012345678901234567890123"
        })
    void badHandlesAreInvalidArgument(String handle) {
      assertThat(h.register(handle).code()).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.state.userCount()).isZero();
    }

    @Test
    void handleOfThirtyTwoCharactersIsAccepted() {
      assertThat(h.register("a2345678901234567890123456789012").isOk()).isTrue();
    }

    @Test
    void displayNameRules() {
      assertThat(h.apply(new RegisterUser("alice", "x".repeat(65))).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.apply(new RegisterUser("alice", "bell\u0007")).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.apply(new RegisterUser("alice", "\uD83D")).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.apply(new RegisterUser("alice", "🐦".repeat(64))).isOk()).isTrue();
    }

    @Test
    void getUnknownUserIsNotFound() {
      assertThat(h.query(new Query.GetUser("nobody")).code()).isEqualTo(Code.NOT_FOUND);
      assertThat(h.query(new Query.GetUser("no body")).code()).isEqualTo(Code.INVALID_ARGUMENT);
    }

    @Test
    void listsUsersByPrefixInPages() {
      for (String u : List.of("bob", "alice", "alex", "albert", "carol")) {
        h.register(u);
      }
      Result first = h.query(new Query.ListUsers("Al", new PageRequest(2, "")));
      UserPage p1 = (UserPage) first.payload();
      assertThat(p1.users()).extracting(User::handle).containsExactly("albert", "alex");
      assertThat(p1.nextToken()).isNotEmpty();
      UserPage p2 =
          (UserPage)
              h.query(new Query.ListUsers("al", new PageRequest(2, p1.nextToken()))).payload();
      assertThat(p2.users()).extracting(User::handle).containsExactly("alice");
      assertThat(p2.nextToken()).isEmpty();
      UserPage all = (UserPage) h.query(new Query.ListUsers("", PageRequest.FIRST)).payload();
      assertThat(all.users()).hasSize(5);
      assertThat(h.query(new Query.ListUsers("a-", PageRequest.FIRST)).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
    }
  }

  @Nested
  class Follows {
    @Test
    void followIsIdempotentAndCounted() {
      h.register("alice");
      h.register("bob");
      assertThat(h.follow("alice", "BOB").payload()).isEqualTo(new FollowResult(true));
      assertThat(h.follow("alice", "bob").payload()).isEqualTo(new FollowResult(false));
      assertThat(h.state.followEdgeCount()).isEqualTo(1);
      User bob = (User) h.query(new Query.GetUser("bob")).payload();
      assertThat(bob.followerCount()).isEqualTo(1);
      UserPage followers =
          (UserPage) h.query(new Query.ListFollowers("bob", PageRequest.FIRST)).payload();
      assertThat(followers.users()).extracting(User::handle).containsExactly("alice");
      UserPage following =
          (UserPage) h.query(new Query.ListFollowing("alice", PageRequest.FIRST)).payload();
      assertThat(following.users()).extracting(User::handle).containsExactly("bob");
    }

    @Test
    void unfollowIsIdempotent() {
      h.register("alice");
      h.register("bob");
      h.follow("alice", "bob");
      assertThat(h.apply(new Unfollow("alice", "bob")).payload()).isEqualTo(new FollowResult(true));
      assertThat(h.apply(new Unfollow("alice", "bob")).payload())
          .isEqualTo(new FollowResult(false));
      assertThat(h.state.followEdgeCount()).isZero();
      assertThat(
              ((UserPage) h.query(new Query.ListFollowers("bob", PageRequest.FIRST)).payload())
                  .users())
          .isEmpty();
    }

    @Test
    void refusals() {
      h.register("alice");
      assertThat(h.follow("alice", "alice").code()).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.follow("alice", "ghost").code()).isEqualTo(Code.NOT_FOUND);
      assertThat(h.follow("ghost", "alice").code()).isEqualTo(Code.NOT_FOUND);
      assertThat(h.apply(new Unfollow("alice", "ghost")).code()).isEqualTo(Code.NOT_FOUND);
      assertThat(h.follow("alice", "").code()).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.query(new Query.ListFollowers("ghost", PageRequest.FIRST)).code())
          .isEqualTo(Code.NOT_FOUND);
      assertThat(h.state.followEdgeCount()).isZero();
    }

    @Test
    void followersArePaginated() {
      h.register("star");
      for (int i = 0; i < 7; i++) {
        h.register("fan" + i);
        h.follow("fan" + i, "star");
      }
      UserPage p =
          (UserPage) h.query(new Query.ListFollowers("star", new PageRequest(5, ""))).payload();
      assertThat(p.users()).hasSize(5);
      UserPage rest =
          (UserPage)
              h.query(new Query.ListFollowers("star", new PageRequest(5, p.nextToken()))).payload();
      assertThat(rest.users()).extracting(User::handle).containsExactly("fan5", "fan6");
      assertThat(rest.nextToken()).isEmpty();
    }
  }

  @Nested
  class Posts {
    @Test
    void postIdIsTheLogIndexAndTimeIsStamped() {
      h.register("alice");
      h.index = 41;
      Result r = h.apply(new CreatePost("alice", "hello"));
      Post p = (Post) r.payload();
      assertThat(p.id()).isEqualTo(42);
      assertThat(p.author()).isEqualTo("alice");
      assertThat(p.timestampMs()).isEqualTo(1_001);
    }

    @Test
    void timestampsNeverGoBackwards() {
      h.register("alice");
      h.clock = 5_000;
      h.post("alice", "first");
      h.clock = 10; // a new leader with a slow clock
      Result r = h.apply(new CreatePost("alice", "second"));
      assertThat(((Post) r.payload()).timestampMs()).isEqualTo(5_000);
    }

    @Test
    void textRules() {
      h.register("alice");
      assertThat(h.apply(new CreatePost("alice", "")).code()).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.apply(new CreatePost("alice", " \n\t ")).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.apply(new CreatePost("alice", "x".repeat(281))).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.apply(new CreatePost("alice", "bad \u0000 byte")).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.apply(new CreatePost("alice", "lone \uDC00")).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.state.postCount()).isZero();
      // 280 code points, each two UTF-16 units: the limit counts code points.
      assertThat(h.apply(new CreatePost("alice", "🐦".repeat(280))).isOk()).isTrue();
      assertThat(h.apply(new CreatePost("alice", "line\nbreak\ttab")).isOk()).isTrue();
    }

    @Test
    void configuredLengthIsEnforced() {
      Harness small = new Harness(Limits.DEFAULT.withMaxPostCodePoints(5));
      small.register("alice");
      assertThat(small.apply(new CreatePost("alice", "123456")).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(small.apply(new CreatePost("alice", "12345")).isOk()).isTrue();
    }

    @Test
    void unknownAuthorIsNotFound() {
      assertThat(h.apply(new CreatePost("ghost", "boo")).code()).isEqualTo(Code.NOT_FOUND);
      assertThat(h.query(new Query.ListPosts("ghost", PageRequest.FIRST)).code())
          .isEqualTo(Code.NOT_FOUND);
    }

    @Test
    void postsOfOneEntryGetUniqueIncreasingIdsFromItsIndexOn() {
      h.register("alice");
      h.register("bob");
      long before = h.post("alice", "before");
      // One entry (index 10) carrying three posts and a refused one: ids 10, 11, 12.
      List<Long> ids = new ArrayList<>();
      List<String> texts = List.of("one", "two", "", "three");
      for (int i = 0; i < texts.size(); i++) {
        Result r = h.state.apply(h.id("batch", i + 1), post(texts.get(i)), 10, 50);
        if (r.isOk()) {
          ids.add(((Post) r.payload()).id());
        }
      }
      assertThat(before).isLessThan(10);
      assertThat(ids).containsExactly(10L, 11L, 12L);
      // The next entry's index (11) is taken: its post gets the next free id. A later entry whose
      // index is free gets its index again.
      assertThat(((Post) h.state.apply(h.id("c", 1), post("next"), 11, 51).payload()).id())
          .isEqualTo(13);
      assertThat(((Post) h.state.apply(h.id("c", 2), post("later"), 20, 52).payload()).id())
          .isEqualTo(20);
      PostPage page = (PostPage) h.query(new Query.ListPosts("alice", PageRequest.FIRST)).payload();
      assertThat(page.posts())
          .extracting(Post::id)
          .containsExactly(20L, 13L, 12L, 11L, 10L, before);
    }

    @Test
    void postIdsStayUniqueAfterASnapshotOfAnEntryWithSeveralPosts() throws Exception {
      h.register("alice");
      for (long seq = 1; seq <= 3; seq++) {
        h.state.apply(h.id("batch", seq), post("first " + seq), 5, 50);
      }
      RoostState restored = RoostStatePropertiesTest.roundTrip(h.state);
      assertThat(restored.digest()).isEqualTo(h.state.digest());

      // The entry after the snapshot carries two more posts: they must follow 5, 6, 7, not reuse
      // 6 and 7, on the restored state exactly as on the live one.
      for (RoostState s : List.of(h.state, restored)) {
        List<Long> ids = new ArrayList<>();
        for (long seq = 4; seq <= 5; seq++) {
          ids.add(((Post) s.apply(h.id("batch", seq), post("second"), 6, 60).payload()).id());
        }
        assertThat(ids).containsExactly(8L, 9L);
      }
      assertThat(restored.digest()).isEqualTo(h.state.digest());
    }

    private static CreatePost post(String text) {
      return new CreatePost("alice", text);
    }

    @Test
    void postsOfOneAuthorNewestFirst() {
      h.register("alice");
      long a = h.post("alice", "one");
      long b = h.post("alice", "two");
      PostPage page = (PostPage) h.query(new Query.ListPosts("alice", PageRequest.FIRST)).payload();
      assertThat(page.posts()).extracting(Post::id).containsExactly(b, a);
    }
  }

  @Nested
  class Timelines {
    @Test
    void mergesOwnAndFollowedPostsNewestFirst() {
      for (String u : List.of("alice", "bob", "carol", "dave")) {
        h.register(u);
      }
      h.follow("alice", "bob");
      h.follow("alice", "carol");
      long a1 = h.post("alice", "a1");
      long b1 = h.post("bob", "b1");
      h.post("dave", "not followed");
      long c1 = h.post("carol", "c1");
      long b2 = h.post("bob", "b2");
      assertThat(h.wholeTimeline("alice", 200))
          .extracting(Post::id)
          .containsExactly(b2, c1, b1, a1);
    }

    @Test
    void cursorStaysCorrectWhileNewPostsArrive() {
      h.register("alice");
      h.register("bob");
      h.follow("alice", "bob");
      for (int i = 0; i < 10; i++) {
        h.post(i % 2 == 0 ? "alice" : "bob", "p" + i);
      }
      PostPage first =
          (PostPage) h.query(new Query.GetTimeline("alice", new PageRequest(4, ""))).payload();
      assertThat(first.posts()).extracting(Post::text).containsExactly("p9", "p8", "p7", "p6");
      h.post("bob", "newer");
      PostPage second =
          (PostPage)
              h.query(new Query.GetTimeline("alice", new PageRequest(4, first.nextToken())))
                  .payload();
      assertThat(second.posts()).extracting(Post::text).containsExactly("p5", "p4", "p3", "p2");
      PostPage last =
          (PostPage)
              h.query(new Query.GetTimeline("alice", new PageRequest(4, second.nextToken())))
                  .payload();
      assertThat(last.posts()).extracting(Post::text).containsExactly("p1", "p0");
      assertThat(last.nextToken()).isEmpty();
    }

    @Test
    void unfollowedAuthorsDisappear() {
      h.register("alice");
      h.register("bob");
      h.follow("alice", "bob");
      h.post("bob", "hi");
      h.apply(new Unfollow("alice", "bob"));
      assertThat(h.wholeTimeline("alice", 10)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 201})
    void limitsAreValidated(int limit) {
      h.register("alice");
      assertThat(h.query(new Query.GetTimeline("alice", new PageRequest(limit, ""))).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
    }

    @Test
    void defaultLimitIsFifty() {
      h.register("alice");
      for (int i = 0; i < 60; i++) {
        h.post("alice", "p" + i);
      }
      PostPage p = (PostPage) h.query(new Query.GetTimeline("alice", PageRequest.FIRST)).payload();
      assertThat(p.posts()).hasSize(50);
    }

    @Test
    void badOrForeignTokensAreInvalidArgument() {
      h.register("alice");
      assertThat(h.query(new Query.GetTimeline("alice", new PageRequest(5, "!!!"))).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      String userToken = PageToken.encode(PageToken.HANDLE, "bob");
      assertThat(h.query(new Query.GetTimeline("alice", new PageRequest(5, userToken))).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      String notANumber = PageToken.encode(PageToken.POST, "x");
      assertThat(h.query(new Query.GetTimeline("alice", new PageRequest(5, notANumber))).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
    }
  }

  @Nested
  class KeyValue {
    @Test
    void aPageOfLargeValuesEndsEarlyAtItsByteBudgetAndPagingStillSeesEveryKeyOnce() {
      byte[] mib = new byte[Validation.MAX_VALUE_BYTES];
      for (int i = 0; i < 10; i++) {
        assertThat(h.apply(new KvPut("big/" + i, mib)).isOk()).isTrue();
      }
      List<String> seen = new ArrayList<>();
      String token = "";
      int pages = 0;
      do {
        KvPage page =
            (KvPage) h.query(new Query.KvList("big/", new PageRequest(200, token))).payload();
        long valueBytes = page.entries().stream().mapToLong(e -> e.value().length).sum();
        assertThat(valueBytes).isLessThanOrEqualTo(Validation.MAX_PAGE_VALUE_BYTES);
        page.entries().forEach(e -> seen.add(e.key()));
        token = page.nextToken();
        pages++;
      } while (!token.isEmpty());

      assertThat(seen).hasSize(10).doesNotHaveDuplicates();
      assertThat(pages).isGreaterThan(1);
    }

    @Test
    void putTracksRevisionsAndVersions() {
      h.index = 9;
      KvEntry first = (KvEntry) h.apply(new KvPut("k", bytes("v1"))).payload();
      assertThat(first).isEqualTo(new KvEntry("k", new byte[0], 10, 10, 1));
      h.apply(new KvPut("k", bytes("v2")));
      KvEntry read = (KvEntry) h.query(new Query.KvGet("k")).payload();
      assertThat(read).isEqualTo(new KvEntry("k", bytes("v2"), 10, 11, 2));
    }

    @Test
    void writesToOneKeyInOneEntryShareItsRevisionAndCountEachVersion() {
      // Three writes of one entry (index 7), as a batch applies them.
      h.state.apply(h.id("c", 1), new KvPut("k", bytes("v1")), 7, 1);
      h.state.apply(h.id("c", 2), new KvPut("k", bytes("v2")), 7, 1);
      Result cas =
          h.state.apply(
              h.id("c", 3),
              new KvCompareAndSet("k", new Expect.VersionEquals(2), bytes("v3")),
              7,
              1);
      assertThat(cas.payload()).isEqualTo(new KvEntry("k", new byte[0], 7, 7, 3));
      assertThat(h.query(new Query.KvGet("k")).payload())
          .isEqualTo(new KvEntry("k", bytes("v3"), 7, 7, 3));
    }

    @Test
    void deleteAndMissingKeys() {
      h.apply(new KvPut("k", bytes("v")));
      assertThat(h.apply(new KvDelete("k")).isOk()).isTrue();
      assertThat(h.apply(new KvDelete("k")).code()).isEqualTo(Code.NOT_FOUND);
      assertThat(h.query(new Query.KvGet("k")).code()).isEqualTo(Code.NOT_FOUND);
      h.apply(new KvPut("k", bytes("again")));
      assertThat(((KvEntry) h.query(new Query.KvGet("k")).payload()).version()).isEqualTo(1);
    }

    @Test
    void compareAndSetByValue() {
      h.apply(new KvPut("k", bytes("a")));
      Result miss =
          h.apply(new KvCompareAndSet("k", new Expect.ValueEquals(bytes("x")), bytes("b")));
      assertThat(miss.code()).isEqualTo(Code.FAILED_PRECONDITION);
      assertThat(((KvEntry) miss.payload()).version()).isEqualTo(1);
      assertThat(
              h.apply(new KvCompareAndSet("k", new Expect.ValueEquals(bytes("a")), bytes("b")))
                  .isOk())
          .isTrue();
      assertThat(((KvEntry) h.query(new Query.KvGet("k")).payload()).value()).isEqualTo(bytes("b"));
      assertThat(
              h.apply(new KvCompareAndSet("absent", new Expect.ValueEquals(bytes("")), bytes("b")))
                  .code())
          .isEqualTo(Code.FAILED_PRECONDITION);
    }

    @Test
    void compareAndSetByVersion() {
      assertThat(h.apply(new KvCompareAndSet("k", new Expect.VersionEquals(0), bytes("a"))).isOk())
          .isTrue();
      assertThat(h.apply(new KvCompareAndSet("k", new Expect.VersionEquals(0), bytes("b"))).code())
          .isEqualTo(Code.FAILED_PRECONDITION);
      assertThat(h.apply(new KvCompareAndSet("k", new Expect.VersionEquals(1), bytes("b"))).isOk())
          .isTrue();
      assertThat(h.apply(new KvCompareAndSet("k", new Expect.VersionEquals(1), bytes("c"))).code())
          .isEqualTo(Code.FAILED_PRECONDITION);
      assertThat(h.apply(new KvCompareAndSet("k", new Expect.VersionEquals(-1), bytes("c"))).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.apply(new KvCompareAndSet("k", null, bytes("c"))).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(((KvEntry) h.query(new Query.KvGet("k")).payload()).value()).isEqualTo(bytes("b"));
    }

    @Test
    void sizeLimits() {
      assertThat(h.apply(new KvPut("", bytes("v"))).code()).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.apply(new KvPut("k".repeat(1025), bytes("v"))).code())
          .isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(h.apply(new KvPut("k".repeat(1024), bytes("v"))).isOk()).isTrue();
      assertThat(h.apply(new KvPut("big", new byte[(1 << 20) + 1])).code())
          .isEqualTo(Code.RESOURCE_EXHAUSTED);
      assertThat(h.apply(new KvPut("big", new byte[1 << 20])).isOk()).isTrue();
      assertThat(h.apply(new KvPut("k", null)).code()).isEqualTo(Code.INVALID_ARGUMENT);
    }

    @Test
    void listsByPrefixInPages() {
      for (String k : List.of("a/1", "a/2", "a/3", "b/1")) {
        h.apply(new KvPut(k, bytes(k)));
      }
      KvPage p1 = (KvPage) h.query(new Query.KvList("a/", new PageRequest(2, ""))).payload();
      assertThat(p1.entries()).extracting(KvEntry::key).containsExactly("a/1", "a/2");
      KvPage p2 =
          (KvPage) h.query(new Query.KvList("a/", new PageRequest(2, p1.nextToken()))).payload();
      assertThat(p2.entries()).extracting(KvEntry::key).containsExactly("a/3");
      assertThat(p2.nextToken()).isEmpty();
      assertThat(p2.entries().get(0).value()).isEqualTo(bytes("a/3"));
    }

    @Test
    void storedValueIsACopy() {
      byte[] value = bytes("v");
      h.apply(new KvPut("k", value));
      value[0] = 'x';
      assertThat(((KvEntry) h.query(new Query.KvGet("k")).payload()).value()).isEqualTo(bytes("v"));
    }
  }

  @Nested
  class QuotasHold {
    private final Harness small =
        new Harness(Limits.DEFAULT.withQuotas(new Quotas(3, 2, 2, 1, 2, 10)));

    @Test
    void usersPostsAndFollowsStopAtTheirQuotasAndChangeNothing() {
      small.register("alice");
      small.register("bob");
      small.register("carol");
      Result fourth = small.register("dave");
      assertThat(fourth.code()).isEqualTo(Code.RESOURCE_EXHAUSTED);
      assertThat(fourth.message()).contains("3 users");
      assertThat(small.state.userCount()).isEqualTo(3);

      small.post("alice", "one");
      small.post("bob", "two");
      assertThat(small.apply(new CreatePost("carol", "three")).code())
          .isEqualTo(Code.RESOURCE_EXHAUSTED);
      assertThat(small.state.postCount()).isEqualTo(2);

      assertThat(small.follow("alice", "bob").isOk()).isTrue();
      // One account followed per user: alice may not follow a second one.
      Result second = small.follow("alice", "carol");
      assertThat(second.code()).isEqualTo(Code.RESOURCE_EXHAUSTED);
      assertThat(second.message()).contains("'alice' already follows 1");
      // Following again what one follows is no new edge, so no quota stops it.
      assertThat(small.follow("alice", "bob").isOk()).isTrue();
      assertThat(small.follow("bob", "alice").isOk()).isTrue();
      // Two edges in all: carol may follow nobody now.
      assertThat(small.follow("carol", "alice").code()).isEqualTo(Code.RESOURCE_EXHAUSTED);
      assertThat(small.state.followEdgeCount()).isEqualTo(2);
      // An unfollow frees room.
      small.apply(new Unfollow("bob", "alice"));
      assertThat(small.follow("carol", "alice").isOk()).isTrue();
    }

    @Test
    void keysAndKeyValueBytesStopAtTheirQuotasAndDeletesFreeRoom() {
      assertThat(small.apply(new KvPut("a", bytes("1234"))).isOk()).isTrue(); // 5 bytes
      Result tooBig = small.apply(new KvPut("b", bytes("123456"))); // 7 more: 12 > 10
      assertThat(tooBig.code()).isEqualTo(Code.RESOURCE_EXHAUSTED);
      assertThat(small.apply(new KvPut("b", bytes("1234"))).isOk()).isTrue(); // 10 bytes
      // Shrinking a value is always allowed; a third key is not.
      assertThat(small.apply(new KvPut("a", bytes("1"))).isOk()).isTrue(); // 7 bytes in all
      assertThat(small.apply(new KvPut("c", bytes(""))).code()).isEqualTo(Code.RESOURCE_EXHAUSTED);
      // A compare-and-set that would grow past the quota is refused too.
      assertThat(
              small
                  .apply(new KvCompareAndSet("a", new Expect.VersionEquals(2), bytes("12345678")))
                  .code())
          .isEqualTo(Code.RESOURCE_EXHAUSTED);
      assertThat(small.state.keyCount()).isEqualTo(2);

      small.apply(new KvDelete("b"));
      // 2 bytes left in all: "c" with 7 value bytes brings it to 10, the quota.
      assertThat(small.apply(new KvPut("c", bytes("1234567"))).isOk()).isTrue();
    }

    @Test
    void aRestoredStateCountsItsKeyValueBytes() throws Exception {
      small.apply(new KvPut("a", bytes("12345678"))); // 9 bytes
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      SnapshotFormat.write(small.state, out);
      byte[] bytes = out.toByteArray();
      RoostState restored =
          SnapshotFormat.read(new java.io.ByteArrayInputStream(bytes), bytes.length);

      restored.openSession(99, 100);
      assertThat(
              restored.apply(new RequestId(99, 1, 1), new KvPut("b", bytes("12")), 100, 100).code())
          .isEqualTo(Code.RESOURCE_EXHAUSTED);
    }
  }

  @Nested
  class ReplicatedSettings {
    private final String longText = "x".repeat(300);

    @Test
    void settingsChangeWhatApplyAcceptsFromTheNextWriteOn() {
      h.register("alice");
      assertThat(h.apply(new CreatePost("alice", longText)).code())
          .isEqualTo(Code.INVALID_ARGUMENT);

      Result set = h.state.configure(Limits.DEFAULT.withMaxPostCodePoints(500), false);

      assertThat(set.payload())
          .isEqualTo(new Payload.Settings(Limits.DEFAULT.withMaxPostCodePoints(500), true));
      assertThat(h.apply(new CreatePost("alice", longText)).code()).isEqualTo(Code.OK);
      assertThat(h.query(new Query.GetSettings()).payload()).isEqualTo(set.payload());
    }

    @Test
    void aFirstLeadersValuesApplyOnlyWhileNoneWereSet() {
      assertThat(h.state.configured()).isFalse();
      h.state.configure(Limits.DEFAULT.withMaxPostCodePoints(10), true);
      // A later leader's configured values (another member's flags) change nothing.
      h.state.configure(Limits.DEFAULT.withMaxPostCodePoints(20), true);
      assertThat(h.state.limits().maxPostCodePoints()).isEqualTo(10);
      // An administrator's change does.
      h.state.configure(Limits.DEFAULT.withMaxPostCodePoints(30), false);
      assertThat(h.state.limits().maxPostCodePoints()).isEqualTo(30);
    }

    @Test
    void settingsSurviveASnapshotAndTellStatesApartInTheDigest() throws Exception {
      RoostState other = new RoostState(Limits.DEFAULT);
      String before = other.digest().sha256();
      h.state.configure(Limits.DEFAULT.withSessions(7, 9, 11), false);
      other.configure(Limits.DEFAULT.withSessions(7, 9, 12), false);

      RoostState restored = RoostStatePropertiesTest.roundTrip(h.state);

      assertThat(restored.limits()).isEqualTo(h.state.limits());
      assertThat(restored.configured()).isTrue();
      assertThat(restored.digest()).isEqualTo(h.state.digest());
      assertThat(other.digest().sha256()).isNotEqualTo(before);
      RoostState same = new RoostState(Limits.DEFAULT);
      same.configure(Limits.DEFAULT.withSessions(7, 9, 11), false);
      assertThat(other.digest().sha256()).isNotEqualTo(same.digest().sha256());
    }
  }

  @Nested
  class ExactlyOnce {
    @Test
    void repeatedRequestIdGetsTheFirstResultAndAppliesOnce() {
      h.register("alice");
      RequestId id = h.id("client-a", 7);
      Result first = h.state.apply(id, new CreatePost("alice", "once"), 100, 5);
      Result again = h.state.apply(id, new CreatePost("alice", "once"), 101, 6);
      assertThat(again).isEqualTo(first);
      assertThat(h.state.postCount()).isEqualTo(1);
    }

    @Test
    void repeatOfARefusedWriteIsRefusedAgainEvenIfItWouldNowSucceed() {
      RequestId id = h.id("client-a", 1);
      Result first = h.state.apply(id, new CreatePost("alice", "early"), 1, 1);
      assertThat(first.code()).isEqualTo(Code.NOT_FOUND);
      h.register("alice");
      assertThat(h.state.apply(id, new CreatePost("alice", "early"), 3, 3)).isEqualTo(first);
      assertThat(h.state.postCount()).isZero();
    }

    @Test
    void idsOlderThanTheWindowAreRefusedAsUnknown() {
      Harness small = new Harness(Limits.DEFAULT.withSessions(10, 3, 60_000));
      for (long seq = 1; seq <= 4; seq++) {
        small.state.apply(small.id("c", seq), new KvPut("k", bytes("v" + seq)), seq, seq);
      }
      Result old = small.state.apply(small.id("c", 1), new KvPut("k", bytes("v1")), 5, 5);
      assertThat(old.code()).isEqualTo(Code.ABORTED);
      assertThat(((KvEntry) small.query(new Query.KvGet("k")).payload()).value())
          .isEqualTo(bytes("v4"));
      assertThat(small.state.apply(small.id("c", 2), new KvPut("k", bytes("v2")), 6, 6).payload())
          .isEqualTo(new KvEntry("k", new byte[0], 1, 2, 2));
    }

    @Test
    void repliesTheClientHasSeenAreForgottenAndTheirRepeatsRefused() {
      RoostState s = new RoostState(Limits.DEFAULT);
      s.openSession(5, 1_000);
      s.apply(new RequestId(5, 1, 1), new KvPut("k", bytes("a")), 1, 1_000);
      s.apply(new RequestId(5, 2, 1), new KvPut("k", bytes("b")), 2, 1_000);
      // Sequence 3 tells the session that the replies to 1 and 2 were seen.
      Result third = s.apply(new RequestId(5, 3, 3), new KvPut("k", bytes("c")), 3, 1_000);

      assertThat(s.apply(new RequestId(5, 1, 1), new KvPut("k", bytes("a")), 4, 1_000).code())
          .isEqualTo(Code.ABORTED);
      assertThat(s.apply(new RequestId(5, 3, 3), new KvPut("k", bytes("c")), 5, 1_000))
          .isEqualTo(third);
      assertThat(((KvEntry) s.query(new Query.KvGet("k")).payload()).version()).isEqualTo(3);
    }

    @Test
    void anIdleSessionExpiresByStampedTimeAndItsRetryIsNeverApplied() {
      RoostState s = new RoostState(Limits.DEFAULT.withSessions(10, 10, 1_000));
      s.openSession(7, 10_000);
      RequestId put = new RequestId(7, 1, 1);
      s.apply(put, new KvPut("k", bytes("v")), 1, 10_500);
      // Exactly the timeout after the last write: still open; the repeat is answered from memory.
      assertThat(s.apply(put, new KvPut("k", bytes("v")), 2, 11_500).code()).isEqualTo(Code.OK);
      // A millisecond later it has expired: the retry is refused, not applied again.
      Result late = s.apply(put, new KvPut("k", bytes("v")), 3, 11_501);
      assertThat(late.code()).isEqualTo(Code.SESSION_EXPIRED);
      Result fresh = s.apply(new RequestId(7, 2, 2), new KvPut("k", bytes("w")), 4, 11_502);
      assertThat(fresh.code()).isEqualTo(Code.SESSION_EXPIRED);
      assertThat(((KvEntry) s.query(new Query.KvGet("k")).payload()).version()).isEqualTo(1);
    }

    @Test
    void openingOneSessionTooManyExpiresTheLeastRecentlyActive() {
      RoostState s = new RoostState(Limits.DEFAULT.withSessions(2, 10, 60_000));
      s.openSession(1, 1_000);
      s.openSession(2, 1_001);
      // Session 1 writes after session 2 opened: 2 is now the least recently active.
      s.apply(new RequestId(1, 1, 1), new KvPut("k", bytes("a")), 1, 1_002);
      s.openSession(3, 1_004);

      assertThat(s.apply(new RequestId(2, 1, 1), new KvPut("k", bytes("b")), 4, 1_005).code())
          .isEqualTo(Code.SESSION_EXPIRED);
      assertThat(s.apply(new RequestId(1, 1, 1), new KvPut("k", bytes("a")), 5, 1_005).code())
          .isEqualTo(Code.OK);
      assertThat(((KvEntry) s.query(new Query.KvGet("k")).payload()).version()).isEqualTo(1);
    }

    @Test
    void aWriteInASessionNeverOpenedIsRefusedAndChangesNothing() {
      RoostState s = new RoostState(Limits.DEFAULT);
      String before = s.digest().sha256();
      assertThat(s.apply(new RequestId(42, 1, 1), new KvPut("k", bytes("v")), 1, 0).code())
          .isEqualTo(Code.SESSION_EXPIRED);
      assertThat(s.digest().sha256()).isEqualTo(before);
    }

    @Test
    void aSessionIdMustBePositiveAndUnused() {
      RoostState s = new RoostState(Limits.DEFAULT);
      assertThat(s.openSession(3, 1).code()).isEqualTo(Code.OK);
      assertThat(s.openSession(3, 2).code()).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(s.openSession(0, 3).code()).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(s.openSession(-4, 4).code()).isEqualTo(Code.INVALID_ARGUMENT);
    }

    @Test
    void requestIdIsValidated() {
      assertThat(catchRejection(() -> RequestId.of(0, 1, 1))).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(catchRejection(() -> RequestId.of(1, 0, 1))).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(catchRejection(() -> RequestId.of(1, 2, 0))).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(catchRejection(() -> RequestId.of(1, 2, 3))).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(catchRejection(() -> RequestId.of(1, 2, 2))).isEqualTo(Code.OK);
    }
  }

  private static Code catchRejection(Runnable r) {
    try {
      r.run();
      return Code.OK;
    } catch (Rejection e) {
      return e.code();
    }
  }

  @Test
  void refusedCommandsChangeNoVisibleState() {
    h.register("alice");
    h.post("alice", "hello");
    Payload.StateDigest before = h.state.digest();
    for (Command bad :
        List.of(
            new RegisterUser("alice", ""),
            new Follow("alice", "alice"),
            new CreatePost("ghost", "x"),
            new KvDelete("missing"),
            new KvCompareAndSet("k", new Expect.VersionEquals(3), bytes("v")))) {
      Result r = h.apply(bad);
      assertThat(r.isOk()).as(bad.toString()).isFalse();
      assertThat(r.message()).isNotBlank();
    }
    Payload.StateDigest after = h.state.digest();
    assertThat(after.users()).isEqualTo(before.users());
    assertThat(after.posts()).isEqualTo(before.posts());
    assertThat(after.followEdges()).isEqualTo(before.followEdges());
    assertThat(after.keys()).isEqualTo(before.keys());
    assertThat(h.wholeTimeline("alice", 10)).hasSize(1);
  }
}

package dev.roost.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import dev.roost.proto.Command;
import dev.roost.proto.CommandBatch;
import dev.roost.proto.CreatePost;
import dev.roost.proto.Follow;
import dev.roost.proto.GetStateDigest;
import dev.roost.proto.GetTimeline;
import dev.roost.proto.GetUser;
import dev.roost.proto.KvCompareAndSet;
import dev.roost.proto.KvDelete;
import dev.roost.proto.KvGet;
import dev.roost.proto.KvList;
import dev.roost.proto.KvPut;
import dev.roost.proto.ListFollowers;
import dev.roost.proto.ListFollowing;
import dev.roost.proto.ListPosts;
import dev.roost.proto.ListUsers;
import dev.roost.proto.Page;
import dev.roost.proto.Query;
import dev.roost.proto.QueryBatch;
import dev.roost.proto.RegisterUser;
import dev.roost.proto.RequestId;
import dev.roost.proto.Unfollow;
import java.util.SplittableRandom;

/**
 * Hostile commands and queries, seeded and reproducible: messages built from the schema with the
 * values that break code (empty, huge, negative, control characters, nesting, wrong counts), and
 * the bytes of such messages mutated (bits flipped, bytes inserted, cut, repeated), so that most
 * get past parsing and reach validation and apply, and some do not parse at all.
 */
final class HostileMessages {
  private static final String[] STRINGS = {
    "",
    "a",
    "alice",
    "bob",
    "carol_1",
    "Alice",
    "al",
    "x".repeat(33),
    "\u0000",
    "\u001b[2J",
    "\u0000\u00ff",
    "é\u202e",
    " ",
    "canary/1",
    "k/" + "y".repeat(1100),
  };

  private final SplittableRandom random;

  HostileMessages(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /** A command's bytes. */
  byte[] command() {
    return mutateSometimes(command(0));
  }

  /** A query's bytes. */
  byte[] query() {
    return mutateSometimes(query(0));
  }

  private byte[] mutateSometimes(MessageLite message) {
    byte[] bytes = message.toByteArray();
    return random.nextInt(3) == 0 ? mutate(bytes) : bytes;
  }

  private Command command(int depth) {
    Command.Builder c = Command.newBuilder();
    if (random.nextInt(5) != 0) {
      c.setRequestId(
          RequestId.newBuilder()
              .setSession(random.nextInt(4) == 0 ? random.nextLong() : random.nextInt(8))
              .setSequence(sequence())
              .setFirstUnanswered(random.nextInt(4) == 0 ? random.nextLong() : 1));
    }
    if (random.nextInt(6) == 0) {
      c.setTimestampMs(random.nextLong());
    }
    switch (random.nextInt(depth < 2 ? 9 : 8)) {
      case 0 ->
          c.setRegisterUser(RegisterUser.newBuilder().setHandle(pick()).setDisplayName(pick()));
      case 1 -> c.setFollow(Follow.newBuilder().setFollower(pick()).setFollowee(pick()));
      case 2 -> c.setUnfollow(Unfollow.newBuilder().setFollower(pick()).setFollowee(pick()));
      case 3 -> c.setCreatePost(CreatePost.newBuilder().setAuthor(pick()).setText(text()));
      case 4 -> c.setKvPut(KvPut.newBuilder().setKey(pick()).setValue(value()));
      case 5 -> c.setKvDelete(KvDelete.newBuilder().setKey(pick()));
      case 6 -> {
        KvCompareAndSet.Builder cas = KvCompareAndSet.newBuilder().setKey(pick()).setValue(value());
        if (random.nextBoolean()) {
          cas.setExpectedVersion(random.nextInt(3) == 0 ? random.nextLong() : random.nextInt(3));
        } else {
          cas.setExpectedValue(value());
        }
        c.setKvCompareAndSet(cas);
      }
      case 7 -> {} // no operation at all
      default -> {
        CommandBatch.Builder batch = CommandBatch.newBuilder();
        int n =
            switch (random.nextInt(6)) {
              case 0 -> 0;
              case 1 -> 1025;
              default -> 1 + random.nextInt(6);
            };
        for (int i = 0; i < n; i++) {
          batch.addCommands(n > 100 ? tinyWrite(i) : command(depth + 1));
        }
        c.setBatch(batch);
      }
    }
    return c.build();
  }

  private Command tinyWrite(int i) {
    return Command.newBuilder()
        .setRequestId(RequestId.newBuilder().setSession(1).setSequence(i + 1).setFirstUnanswered(1))
        .setKvDelete(KvDelete.newBuilder().setKey("nothing/" + i))
        .build();
  }

  private Query query(int depth) {
    Query.Builder q = Query.newBuilder();
    switch (random.nextInt(depth < 1 ? 11 : 10)) {
      case 0 -> q.setGetUser(GetUser.newBuilder().setHandle(pick()));
      case 1 -> q.setListUsers(ListUsers.newBuilder().setPrefix(pick()).setPage(page()));
      case 2 -> q.setListFollowing(ListFollowing.newBuilder().setHandle(pick()).setPage(page()));
      case 3 -> q.setListFollowers(ListFollowers.newBuilder().setHandle(pick()).setPage(page()));
      case 4 -> q.setListPosts(ListPosts.newBuilder().setAuthor(pick()).setPage(page()));
      case 5 -> q.setGetTimeline(GetTimeline.newBuilder().setHandle(pick()).setPage(page()));
      case 6 -> q.setKvGet(KvGet.newBuilder().setKey(pick()));
      case 7 -> q.setKvList(KvList.newBuilder().setPrefix(pick()).setPage(page()));
      case 8 -> q.setGetStateDigest(GetStateDigest.getDefaultInstance());
      case 9 -> {} // no query at all
      default -> {
        QueryBatch.Builder batch = QueryBatch.newBuilder();
        int n = random.nextInt(8) == 0 ? (random.nextBoolean() ? 0 : 1025) : 1 + random.nextInt(8);
        for (int i = 0; i < n; i++) {
          batch.addQueries(query(depth + 1));
        }
        q.setBatch(batch);
      }
    }
    return q.build();
  }

  private Page page() {
    Page.Builder p = Page.newBuilder();
    switch (random.nextInt(5)) {
      case 0 -> p.setLimit(-1 - random.nextInt(5));
      case 1 -> p.setLimit(Integer.MAX_VALUE);
      case 2 -> p.setLimit(random.nextInt(250));
      default -> {}
    }
    if (random.nextInt(3) == 0) {
      p.setPageToken(random.nextBoolean() ? pick() : Long.toString(random.nextLong()));
    }
    return p.build();
  }

  private long sequence() {
    return switch (random.nextInt(6)) {
      case 0 -> 0;
      case 1 -> -1 - random.nextInt(100);
      case 2 -> Long.MAX_VALUE;
      default -> 1 + random.nextInt(50);
    };
  }

  private String pick() {
    return STRINGS[random.nextInt(STRINGS.length)];
  }

  private String text() {
    return switch (random.nextInt(4)) {
      case 0 -> "x".repeat(281);
      case 1 -> "\n\t ";
      default -> pick() + " says hi";
    };
  }

  private ByteString value() {
    int size =
        switch (random.nextInt(40)) {
          case 0 -> (1 << 20) + 1;
          case 1 -> 1 << 20;
          default -> random.nextInt(64);
        };
    byte[] bytes = new byte[size];
    random.nextBytes(bytes);
    return ByteString.copyFrom(bytes);
  }

  /** The bytes changed in one to four places. */
  private byte[] mutate(byte[] bytes) {
    byte[] b = bytes;
    for (int m = 1 + random.nextInt(4); m > 0; m--) {
      int at = b.length == 0 ? 0 : random.nextInt(b.length);
      switch (random.nextInt(5)) {
        case 0 -> {
          if (b.length > 0) {
            b[at] ^= (byte) (1 << random.nextInt(8));
          }
        }
        case 1 -> b = splice(b, at, 0, new byte[] {(byte) random.nextInt(256)});
        case 2 -> b = splice(b, at, Math.min(b.length - at, 1 + random.nextInt(8)), new byte[0]);
        case 3 -> b = java.util.Arrays.copyOf(b, at);
        default -> {
          int len = Math.min(b.length - at, 1 + random.nextInt(16));
          b = splice(b, at, 0, java.util.Arrays.copyOfRange(b, at, at + len));
        }
      }
    }
    return b;
  }

  private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
    byte[] out = new byte[b.length - remove + insert.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
    return out;
  }
}

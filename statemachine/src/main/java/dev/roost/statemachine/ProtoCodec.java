package dev.roost.statemachine;

import com.google.protobuf.UnsafeByteOperations;
import dev.roost.api.WireLimits;
import dev.roost.domain.Code;
import dev.roost.domain.Command;
import dev.roost.domain.Command.Expect;
import dev.roost.domain.Limits;
import dev.roost.domain.Payload;
import dev.roost.domain.Query;
import dev.roost.domain.Query.PageRequest;
import dev.roost.domain.Quotas;
import dev.roost.domain.Rejection;
import dev.roost.domain.RequestId;
import dev.roost.domain.Result;
import dev.roost.proto.FollowResult;
import dev.roost.proto.KvEntry;
import dev.roost.proto.KvPage;
import dev.roost.proto.Page;
import dev.roost.proto.Post;
import dev.roost.proto.PostPage;
import dev.roost.proto.Reply;
import dev.roost.proto.Session;
import dev.roost.proto.Settings;
import dev.roost.proto.StateDigest;
import dev.roost.proto.StatusCode;
import dev.roost.proto.User;
import dev.roost.proto.UserPage;

/** Translates between the wire schema ({@code roost.proto}) and the domain's plain types. */
final class ProtoCodec {
  private ProtoCodec() {}

  /**
   * The domain form of a single write. A batch is not one: the adapter takes it apart first, so a
   * batch that reaches this method is one nested in another.
   *
   * @throws Rejection with INVALID_ARGUMENT if the command carries no operation (for instance one
   *     added to the schema after this server was built) or is a batch
   */
  static Command command(dev.roost.proto.Command c) {
    return switch (c.getOpCase()) {
      case REGISTER_USER ->
          new Command.RegisterUser(
              c.getRegisterUser().getHandle(), c.getRegisterUser().getDisplayName());
      case FOLLOW -> new Command.Follow(c.getFollow().getFollower(), c.getFollow().getFollowee());
      case UNFOLLOW ->
          new Command.Unfollow(c.getUnfollow().getFollower(), c.getUnfollow().getFollowee());
      case CREATE_POST ->
          new Command.CreatePost(c.getCreatePost().getAuthor(), c.getCreatePost().getText());
      case KV_PUT ->
          new Command.KvPut(c.getKvPut().getKey(), c.getKvPut().getValue().toByteArray());
      case KV_DELETE -> new Command.KvDelete(c.getKvDelete().getKey());
      case KV_COMPARE_AND_SET -> compareAndSet(c.getKvCompareAndSet());
      case BATCH -> throw new Rejection(Code.INVALID_ARGUMENT, "a batch cannot contain a batch");
      case OPEN_SESSION ->
          throw new Rejection(Code.INVALID_ARGUMENT, "opening a session is not a write");
      case SET_SETTINGS ->
          throw new Rejection(Code.INVALID_ARGUMENT, "changing the settings is not a write");
      case OP_NOT_SET -> throw new Rejection(Code.INVALID_ARGUMENT, "command has no operation");
    };
  }

  /**
   * The domain form of the cluster's settings.
   *
   * @throws Rejection with INVALID_ARGUMENT if a value is not positive, or a session would keep
   *     fewer replies than a client batch carries writes (every client batch would then be refused)
   */
  static Limits limits(Settings s) {
    if (s.getSessionReplies() < WireLimits.DEFAULT_DEDUP_WINDOW) {
      throw new Rejection(
          Code.INVALID_ARGUMENT,
          "a session must keep at least "
              + WireLimits.DEFAULT_DEDUP_WINDOW
              + " replies, the most writes a client sends in one batch");
    }
    try {
      return new Limits(
          s.getMaxPostLength(),
          s.getMaxSessions(),
          s.getSessionReplies(),
          s.getSessionTimeoutMs(),
          new Quotas(
              s.getMaxUsers(),
              s.getMaxPosts(),
              s.getMaxFollowEdges(),
              s.getMaxFollowing(),
              s.getMaxKeys(),
              s.getMaxKvBytes()));
    } catch (IllegalArgumentException e) {
      throw new Rejection(Code.INVALID_ARGUMENT, "every setting must be positive");
    }
  }

  /** The wire form of {@code limits}. */
  static Settings settings(Limits limits) {
    Quotas q = limits.quotas();
    return Settings.newBuilder()
        .setMaxPostLength(limits.maxPostCodePoints())
        .setMaxUsers(q.users())
        .setMaxPosts(q.posts())
        .setMaxFollowEdges(q.followEdges())
        .setMaxFollowing(q.followingPerUser())
        .setMaxKeys(q.keys())
        .setMaxKvBytes(q.kvBytes())
        .setMaxSessions(limits.maxSessions())
        .setSessionReplies(limits.dedupWindow())
        .setSessionTimeoutMs(limits.sessionTimeoutMs())
        .build();
  }

  /**
   * The domain form of a write's request id.
   *
   * @throws Rejection with INVALID_ARGUMENT if it is missing or malformed
   */
  static RequestId requestId(dev.roost.proto.Command write) {
    dev.roost.proto.RequestId id = write.getRequestId();
    return RequestId.of(id.getSession(), id.getSequence(), id.getFirstUnanswered());
  }

  private static Command compareAndSet(dev.roost.proto.KvCompareAndSet c) {
    Expect expect =
        switch (c.getExpectCase()) {
          case EXPECTED_VALUE -> new Expect.ValueEquals(c.getExpectedValue().toByteArray());
          case EXPECTED_VERSION -> new Expect.VersionEquals(c.getExpectedVersion());
          case EXPECT_NOT_SET -> null;
        };
    return new Command.KvCompareAndSet(c.getKey(), expect, c.getValue().toByteArray());
  }

  /**
   * The domain form of a single read. As with {@link #command}, a batch that reaches this method is
   * one nested in another.
   *
   * @throws Rejection with INVALID_ARGUMENT if the query carries no operation or is a batch
   */
  static Query query(dev.roost.proto.Query q) {
    return switch (q.getQCase()) {
      case GET_USER -> new Query.GetUser(q.getGetUser().getHandle());
      case LIST_USERS ->
          new Query.ListUsers(q.getListUsers().getPrefix(), page(q.getListUsers().getPage()));
      case LIST_FOLLOWING ->
          new Query.ListFollowing(
              q.getListFollowing().getHandle(), page(q.getListFollowing().getPage()));
      case LIST_FOLLOWERS ->
          new Query.ListFollowers(
              q.getListFollowers().getHandle(), page(q.getListFollowers().getPage()));
      case LIST_POSTS ->
          new Query.ListPosts(q.getListPosts().getAuthor(), page(q.getListPosts().getPage()));
      case GET_TIMELINE ->
          new Query.GetTimeline(q.getGetTimeline().getHandle(), page(q.getGetTimeline().getPage()));
      case KV_GET -> new Query.KvGet(q.getKvGet().getKey());
      case KV_LIST -> new Query.KvList(q.getKvList().getPrefix(), page(q.getKvList().getPage()));
      case GET_STATE_DIGEST -> new Query.GetStateDigest();
      case GET_SETTINGS -> new Query.GetSettings();
      case BATCH -> throw new Rejection(Code.INVALID_ARGUMENT, "a batch cannot contain a batch");
      case Q_NOT_SET -> throw new Rejection(Code.INVALID_ARGUMENT, "query has no operation");
    };
  }

  private static PageRequest page(Page p) {
    return new PageRequest(p.getLimit(), p.getPageToken());
  }

  /** The wire form of a result that reflects the state at {@code appliedIndex}. */
  static Reply reply(Result r, long appliedIndex) {
    Reply.Builder b =
        Reply.newBuilder()
            .setCode(status(r.code()))
            .setMessage(r.message())
            .setAppliedIndex(appliedIndex);
    Payload p = r.payload();
    if (p instanceof Payload.User u) {
      b.setUser(user(u));
    } else if (p instanceof Payload.UserPage page) {
      UserPage.Builder users = UserPage.newBuilder().setNextPageToken(page.nextToken());
      page.users().forEach(u -> users.addUsers(user(u)));
      b.setUserPage(users);
    } else if (p instanceof Payload.Settings s) {
      b.setSettings(settings(s.limits()));
    } else if (p instanceof Payload.SessionOpened o) {
      b.setSession(Session.newBuilder().setId(o.id()).setTimeoutMs(o.timeoutMs()));
    } else if (p instanceof Payload.FollowResult f) {
      b.setFollowResult(FollowResult.newBuilder().setChanged(f.changed()));
    } else if (p instanceof Payload.Post post) {
      b.setPost(post(post));
    } else if (p instanceof Payload.PostPage page) {
      PostPage.Builder posts = PostPage.newBuilder().setNextPageToken(page.nextToken());
      page.posts().forEach(post -> posts.addPosts(post(post)));
      b.setPostPage(posts);
    } else if (p instanceof Payload.KvEntry e) {
      b.setKvEntry(kvEntry(e));
    } else if (p instanceof Payload.KvPage page) {
      KvPage.Builder entries = KvPage.newBuilder().setNextPageToken(page.nextToken());
      page.entries().forEach(e -> entries.addEntries(kvEntry(e)));
      b.setKvPage(entries);
    } else if (p instanceof Payload.StateDigest d) {
      b.setStateDigest(
          StateDigest.newBuilder()
              .setSha256(d.sha256())
              .setUsers(d.users())
              .setFollowEdges(d.followEdges())
              .setPosts(d.posts())
              .setKeys(d.keys()));
    }
    return b.build();
  }

  /** The wire status code of a domain code; both use gRPC's numbers. */
  static StatusCode status(Code code) {
    return StatusCode.forNumber(code.number());
  }

  private static User user(Payload.User u) {
    return User.newBuilder()
        .setHandle(u.handle())
        .setDisplayName(u.displayName())
        .setCreatedAtMs(u.createdAtMs())
        .setFollowerCount(u.followerCount())
        .setFollowingCount(u.followingCount())
        .setPostCount(u.postCount())
        .build();
  }

  private static Post post(Payload.Post p) {
    return Post.newBuilder()
        .setId(p.id())
        .setAuthor(p.author())
        .setText(p.text())
        .setTimestampMs(p.timestampMs())
        .build();
  }

  private static KvEntry kvEntry(Payload.KvEntry e) {
    return KvEntry.newBuilder()
        .setKey(e.key())
        // Values are never mutated once stored, so the reply can share the array.
        .setValue(UnsafeByteOperations.unsafeWrap(e.value()))
        .setCreateRevision(e.createRevision())
        .setModRevision(e.modRevision())
        .setVersion(e.version())
        .build();
  }
}

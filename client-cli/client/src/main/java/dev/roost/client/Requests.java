package dev.roost.client;

import com.google.protobuf.ByteString;
import dev.roost.proto.Command;
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
import dev.roost.proto.RegisterUser;
import dev.roost.proto.Unfollow;

/**
 * Builds the wire messages of {@link RoostClient}'s typed methods, rejecting input that is wrong
 * whatever the server's configuration: a missing required argument or a negative limit. Every other
 * rule (handle syntax, text length, key and value sizes, the limit's upper bound) is the server's,
 * checked on the leader before the command enters the log, so that one set of limits holds whatever
 * client sends the request.
 *
 * <p>Optional arguments ({@code displayName}, {@code prefix}, {@code pageToken}) may be null and
 * then mean "none" / "all" / "first page". Commands come back without a request id; {@link
 * RoostClient} stamps one per logical write.
 */
final class Requests {
  private Requests() {}

  static Command.Builder registerUser(String handle, String displayName) {
    return Command.newBuilder()
        .setRegisterUser(
            RegisterUser.newBuilder()
                .setHandle(required("handle", handle))
                .setDisplayName(optional(displayName)));
  }

  static Command.Builder follow(String follower, String followee) {
    return Command.newBuilder()
        .setFollow(
            Follow.newBuilder()
                .setFollower(required("follower", follower))
                .setFollowee(required("followee", followee)));
  }

  static Command.Builder unfollow(String follower, String followee) {
    return Command.newBuilder()
        .setUnfollow(
            Unfollow.newBuilder()
                .setFollower(required("follower", follower))
                .setFollowee(required("followee", followee)));
  }

  static Command.Builder post(String author, String text) {
    return Command.newBuilder()
        .setCreatePost(
            CreatePost.newBuilder()
                .setAuthor(required("author", author))
                .setText(required("text", text)));
  }

  static Command.Builder kvPut(String key, byte[] value) {
    return Command.newBuilder()
        .setKvPut(KvPut.newBuilder().setKey(required("key", key)).setValue(bytes("value", value)));
  }

  static Command.Builder kvDelete(String key) {
    return Command.newBuilder().setKvDelete(KvDelete.newBuilder().setKey(required("key", key)));
  }

  static Command.Builder kvCompareAndSetValue(String key, byte[] expected, byte[] newValue) {
    return Command.newBuilder()
        .setKvCompareAndSet(
            KvCompareAndSet.newBuilder()
                .setKey(required("key", key))
                .setExpectedValue(bytes("expected", expected))
                .setValue(bytes("newValue", newValue)));
  }

  static Command.Builder kvCompareAndSetVersion(String key, long expectedVersion, byte[] newValue) {
    if (expectedVersion < 0) {
      throw RoostException.invalidArgument(
          "expectedVersion must be >= 0 (0: the key must not exist), got " + expectedVersion);
    }
    return Command.newBuilder()
        .setKvCompareAndSet(
            KvCompareAndSet.newBuilder()
                .setKey(required("key", key))
                .setExpectedVersion(expectedVersion)
                .setValue(bytes("newValue", newValue)));
  }

  static Query getUser(String handle) {
    return Query.newBuilder()
        .setGetUser(GetUser.newBuilder().setHandle(required("handle", handle)))
        .build();
  }

  static Query listUsers(String prefix, int limit, String pageToken) {
    return Query.newBuilder()
        .setListUsers(
            ListUsers.newBuilder().setPrefix(optional(prefix)).setPage(page(limit, pageToken)))
        .build();
  }

  static Query listFollowing(String handle, int limit, String pageToken) {
    return Query.newBuilder()
        .setListFollowing(
            ListFollowing.newBuilder()
                .setHandle(required("handle", handle))
                .setPage(page(limit, pageToken)))
        .build();
  }

  static Query listFollowers(String handle, int limit, String pageToken) {
    return Query.newBuilder()
        .setListFollowers(
            ListFollowers.newBuilder()
                .setHandle(required("handle", handle))
                .setPage(page(limit, pageToken)))
        .build();
  }

  static Query listPosts(String author, int limit, String pageToken) {
    return Query.newBuilder()
        .setListPosts(
            ListPosts.newBuilder()
                .setAuthor(required("author", author))
                .setPage(page(limit, pageToken)))
        .build();
  }

  static Query timeline(String handle, int limit, String pageToken) {
    return Query.newBuilder()
        .setGetTimeline(
            GetTimeline.newBuilder()
                .setHandle(required("handle", handle))
                .setPage(page(limit, pageToken)))
        .build();
  }

  static Query kvGet(String key) {
    return Query.newBuilder().setKvGet(KvGet.newBuilder().setKey(required("key", key))).build();
  }

  static Query kvList(String prefix, int limit, String pageToken) {
    return Query.newBuilder()
        .setKvList(KvList.newBuilder().setPrefix(optional(prefix)).setPage(page(limit, pageToken)))
        .build();
  }

  static Query stateDigest() {
    return Query.newBuilder().setGetStateDigest(GetStateDigest.getDefaultInstance()).build();
  }

  private static Page page(int limit, String pageToken) {
    if (limit < 0) {
      throw RoostException.invalidArgument(
          "limit must be >= 0 (0: the server's default), got " + limit);
    }
    return Page.newBuilder().setLimit(limit).setPageToken(optional(pageToken)).build();
  }

  private static String required(String name, String value) {
    if (value == null) {
      throw RoostException.invalidArgument(name + " is required");
    }
    return value;
  }

  private static ByteString bytes(String name, byte[] value) {
    if (value == null) {
      throw RoostException.invalidArgument(name + " is required (use an empty array for no bytes)");
    }
    return ByteString.copyFrom(value);
  }

  private static String optional(String value) {
    return value == null ? "" : value;
  }
}

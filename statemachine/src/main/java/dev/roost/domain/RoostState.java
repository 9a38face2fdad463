package dev.roost.domain;

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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.NavigableSet;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToLongFunction;

/**
 * Roost's whole replicated state — users, follow edges, posts, the key-value map and the clients'
 * sessions — and the pure function that changes it.
 *
 * <p>Determinism is the contract: {@link #apply} uses only its arguments and the state. No wall
 * clock (time comes stamped into the command by the leader, and is kept non-decreasing), no
 * randomness, no iteration in hash order (every collection that reaches an output or a snapshot is
 * sorted or in insertion/access order), ids from the log index. Two states given the same commands
 * at the same indexes are equal, and so are their snapshots and digests.
 *
 * <p>One log entry may carry several writes (a batch): the caller applies them one by one, in
 * order, with the entry's index and time. Everything derived from the index stays well defined:
 * post ids move past the index when needed (see {@link #apply}), key revisions are shared.
 *
 * <p>Not thread-safe: the caller serializes {@link #apply} against everything else (the Ratis
 * adapter applies on one thread and lets queries share a read lock).
 */
public final class RoostState {
  // Read outside the apply thread too: the leader validates with it before the log.
  private volatile Limits limits;
  private volatile boolean configured;
  private final TreeMap<String, Account> accounts = new TreeMap<>();
  private final TreeMap<String, KvEntry> kv = new TreeMap<>();
  private final Sessions sessions;
  private final StateHash hash = new StateHash();
  private long lastTimestampMs;
  private long followEdges;
  private long postCount;
  // Bytes of keys (UTF-16 length counted as bytes) and values in the key-value map, for its quota.
  private long kvBytes;
  // The highest post id given so far (0 before any). Posts are never deleted, so it is also the
  // highest id in the state: a snapshot need not store it (restoreDerived recomputes it), which
  // keeps the snapshot format and the digest of the same posts unchanged.
  private long lastPostId;

  /**
   * An empty state enforcing {@code limits} until settings are applied ({@link #configure}).
   * Production passes {@link Limits#DEFAULT}, which every member shares; tests pass smaller ones.
   */
  public RoostState(Limits limits) {
    this.limits = limits;
    this.sessions = new Sessions(this::limits, hash);
  }

  /** The limits this state enforces now. */
  public Limits limits() {
    return limits;
  }

  /** Whether settings were ever applied, or the initial limits still hold. */
  public boolean configured() {
    return configured;
  }

  /**
   * Applies the cluster's settings: from now on every write is judged by {@code limits}. What is
   * already held stays (a lower quota refuses only new items; a smaller reply window takes effect
   * at the session's next write).
   *
   * <p>The entry's time is not taken: a first leader submits its values the moment it leads, before
   * it has read its peers' clocks, and a clock running ahead would pin every later timestamp.
   *
   * @param ifUnset only if no settings were ever applied (a first leader's configured values);
   *     otherwise nothing changes
   */
  public Result configure(Limits limits, boolean ifUnset) {
    if (!(ifUnset && configured)) {
      this.limits = limits;
      configured = true;
    }
    return Result.ok(new Payload.Settings(this.limits, configured));
  }

  /**
   * Applies a committed write. Never throws for bad input or a state that forbids the write: those
   * are results with an error code, and change nothing.
   *
   * <p>Several writes of one log entry (a batch) are applied by calling this once per write, in
   * order, with the same {@code index} and {@code stampedMs}. Then:
   *
   * <ul>
   *   <li>a new post's id is {@code max(index, highest post id so far + 1)}: the index itself for
   *       the first post of an entry (as long as no earlier entry's batch went past it), the next
   *       free id for the others, so ids stay unique and increasing in apply order;
   *   <li>a key's revisions stay the entry's index: two writes to one key in one entry get the same
   *       {@code modRevision}, and its {@code version} still counts both (as in an etcd
   *       transaction).
   * </ul>
   *
   * <p>A write whose session is not open gets {@link Code#SESSION_EXPIRED} and changes nothing
   * (sessions expire by the stamped time alone: see {@link #openSession}).
   *
   * @param id the request id; a repeat gets the result of the first request with this id
   * @param command the write
   * @param index the log index of the entry carrying the write; it is the revision of a key and,
   *     unless taken, the id of a post
   * @param stampedMs the time the leader stamped into the entry
   */
  public Result apply(RequestId id, Command command, long index, long stampedMs) {
    lastTimestampMs = Math.max(lastTimestampMs, stampedMs);
    Result remembered = sessions.lookup(id, lastTimestampMs);
    if (remembered != null) {
      return remembered;
    }
    Result result;
    try {
      result = execute(Validation.command(command, limits), index, lastTimestampMs);
    } catch (Rejection r) {
      result = Result.error(r.code(), r.getMessage());
    }
    sessions.record(id, result, lastTimestampMs);
    return result;
  }

  /**
   * Opens a session for a client's writes (carried by a log entry of its own or in a batch, like
   * any write). A session expires once it has seen no write for {@link Limits#sessionTimeoutMs()}
   * of stamped time, and the least recently active one expires when more than {@link
   * Limits#maxSessions()} are open.
   *
   * @param id the session's id, drawn at random by the leader; an id that is not positive or is
   *     already open gets INVALID_ARGUMENT and changes nothing
   * @param stampedMs the time the leader stamped into the entry
   * @return OK with a {@link Payload.SessionOpened}, or the refusal
   */
  public Result openSession(long id, long stampedMs) {
    lastTimestampMs = Math.max(lastTimestampMs, stampedMs);
    return sessions.open(id, lastTimestampMs);
  }

  private Result execute(Command command, long index, long timeMs) {
    Quotas quotas = limits.quotas();
    if (command instanceof RegisterUser c) {
      if (accounts.containsKey(c.handle())) {
        throw new Rejection(Code.ALREADY_EXISTS, "user '" + c.handle() + "' already exists");
      }
      quota(accounts.size(), quotas.users(), "users");
      Account a = new Account(c.handle(), c.displayName(), timeMs);
      accounts.put(a.handle, a);
      hash.user(1, a.handle, a.displayName, a.createdAtMs);
      return Result.ok(a.toUser());
    } else if (command instanceof Follow c) {
      Account follower = account(c.follower());
      Account followee = account(c.followee());
      if (!follower.following.contains(followee.handle)) {
        if (follower.following.size() >= quotas.followingPerUser()) {
          throw new Rejection(
              Code.RESOURCE_EXHAUSTED,
              "'"
                  + follower.handle
                  + "' already follows "
                  + follower.following.size()
                  + " accounts, the most allowed");
        }
        quota(followEdges, quotas.followEdges(), "follow edges");
      }
      boolean changed = follower.following.add(followee.handle);
      if (changed) {
        followee.followers.add(follower.handle);
        followEdges++;
        hash.edge(1, follower.handle, followee.handle);
      }
      return Result.ok(new FollowResult(changed));
    } else if (command instanceof Unfollow c) {
      Account follower = account(c.follower());
      Account followee = account(c.followee());
      boolean changed = follower.following.remove(followee.handle);
      if (changed) {
        followee.followers.remove(follower.handle);
        followEdges--;
        hash.edge(-1, follower.handle, followee.handle);
      }
      return Result.ok(new FollowResult(changed));
    } else if (command instanceof CreatePost c) {
      Account author = account(c.author());
      quota(postCount, quotas.posts(), "posts");
      lastPostId = Math.max(index, lastPostId + 1);
      Post post = new Post(lastPostId, author.handle, c.text(), timeMs);
      author.posts.add(post);
      postCount++;
      hash.post(1, post);
      return Result.ok(post);
    } else if (command instanceof KvPut c) {
      return Result.ok(put(c.key(), c.value(), index).withoutValue());
    } else if (command instanceof KvDelete c) {
      KvEntry removed = kv.remove(c.key());
      if (removed == null) {
        throw new Rejection(Code.NOT_FOUND, "key '" + c.key() + "' does not exist");
      }
      kvBytes -= bytes(removed);
      hash.key(-1, removed);
      return Result.ok(removed.withoutValue());
    } else if (command instanceof KvCompareAndSet c) {
      KvEntry current = kv.get(c.key());
      if (!matches(current, c.expect())) {
        return new Result(
            Code.FAILED_PRECONDITION,
            "compare failed for key '" + c.key() + "'",
            current == null ? null : current.withoutValue());
      }
      return Result.ok(put(c.key(), c.value(), index).withoutValue());
    }
    throw new IllegalArgumentException("unknown command " + command);
  }

  /** Refuses a write that would add one more of {@code what} to the {@code held} it has. */
  private static void quota(long held, long quota, String what) {
    if (held >= quota) {
      throw new Rejection(
          Code.RESOURCE_EXHAUSTED, "the cluster holds " + held + " " + what + ", its quota");
    }
  }

  private static long bytes(KvEntry e) {
    return (long) e.key().length() + e.value().length;
  }

  private static boolean matches(KvEntry current, Expect expect) {
    if (expect instanceof Expect.ValueEquals v) {
      return current != null && Arrays.equals(current.value(), v.value());
    }
    long expected = ((Expect.VersionEquals) expect).version();
    return current == null ? expected == 0 : current.version() == expected;
  }

  private KvEntry put(String key, byte[] value, long index) {
    KvEntry old = kv.get(key);
    if (old == null) {
      quota(kv.size(), limits.quotas().keys(), "keys");
    }
    long grows = (long) key.length() + value.length - (old == null ? 0 : bytes(old));
    if (grows > 0 && kvBytes + grows > limits.quotas().kvBytes()) {
      throw new Rejection(
          Code.RESOURCE_EXHAUSTED,
          "the key-value map holds "
              + kvBytes
              + " bytes; this write would take it past its quota of "
              + limits.quotas().kvBytes());
    }
    kvBytes += grows;
    KvEntry entry =
        old == null
            ? new KvEntry(key, value.clone(), index, index, 1)
            : new KvEntry(key, value.clone(), old.createRevision(), index, old.version() + 1);
    kv.put(key, entry);
    if (old != null) {
      hash.key(-1, old);
    }
    hash.key(1, entry);
    return entry;
  }

  /** Answers a read. Never throws for bad input: that is a result with an error code. */
  public Result query(Query query) {
    try {
      return Result.ok(read(query));
    } catch (Rejection r) {
      return Result.error(r.code(), r.getMessage());
    }
  }

  private Payload read(Query query) {
    if (query instanceof Query.GetUser q) {
      return account(Validation.handle(q.handle())).toUser();
    } else if (query instanceof Query.ListUsers q) {
      return userPage(accounts.navigableKeySet(), Validation.handlePrefix(q.prefix()), q.page());
    } else if (query instanceof Query.ListFollowing q) {
      return userPage(account(Validation.handle(q.handle())).following, "", q.page());
    } else if (query instanceof Query.ListFollowers q) {
      return userPage(account(Validation.handle(q.handle())).followers, "", q.page());
    } else if (query instanceof Query.ListPosts q) {
      return newestFirst(List.of(account(Validation.handle(q.author()))), q.page());
    } else if (query instanceof Query.GetTimeline q) {
      Account reader = account(Validation.handle(q.handle()));
      List<Account> authors = new ArrayList<>(reader.following.size() + 1);
      authors.add(reader);
      reader.following.forEach(h -> authors.add(accounts.get(h)));
      return newestFirst(authors, q.page());
    } else if (query instanceof Query.KvGet q) {
      KvEntry e = kv.get(Validation.key(q.key()));
      if (e == null) {
        throw new Rejection(Code.NOT_FOUND, "key '" + q.key() + "' does not exist");
      }
      return e;
    } else if (query instanceof Query.KvList q) {
      String prefix = Validation.keyPrefix(q.prefix());
      KeyPage page =
          keyPage(
              kv.navigableKeySet(),
              prefix,
              PageToken.KEY,
              q.page(),
              key -> kv.get(key).value().length,
              Validation.MAX_PAGE_VALUE_BYTES);
      return new KvPage(page.keys.stream().map(kv::get).toList(), page.nextToken);
    } else if (query instanceof Query.GetStateDigest) {
      return digest();
    } else if (query instanceof Query.GetSettings) {
      return new Payload.Settings(limits, configured);
    }
    throw new Rejection(Code.INVALID_ARGUMENT, "empty query");
  }

  private UserPage userPage(NavigableSet<String> handles, String prefix, PageRequest request) {
    // A user is a few hundred bytes at most: the item limit alone bounds a page of them.
    KeyPage page = keyPage(handles, prefix, PageToken.HANDLE, request, h -> 0, Long.MAX_VALUE);
    return new UserPage(
        page.keys.stream().map(h -> accounts.get(h).toUser()).toList(), page.nextToken);
  }

  private record KeyPage(List<String> keys, String nextToken) {}

  /**
   * One page of {@code keys} under {@code prefix}: up to the request's limit, and, counting {@code
   * bytes} of each, ended early before the key that would take it past {@code maxBytes}.
   */
  private static KeyPage keyPage(
      NavigableSet<String> keys,
      String prefix,
      char kind,
      PageRequest request,
      ToLongFunction<String> bytes,
      long maxBytes) {
    int limit = Validation.pageLimit(request);
    String after = PageToken.decode(kind, request == null ? "" : request.token());
    NavigableSet<String> tail =
        after.isEmpty() || after.compareTo(prefix) < 0
            ? keys.tailSet(prefix, true)
            : keys.tailSet(after, false);
    List<String> page = new ArrayList<>(Math.min(limit, 64));
    long pageBytes = 0;
    for (String key : tail) {
      if (!key.startsWith(prefix)) {
        break;
      }
      long keyBytes = bytes.applyAsLong(key);
      if (page.size() == limit || (!page.isEmpty() && pageBytes + keyBytes > maxBytes)) {
        return new KeyPage(page, PageToken.encode(kind, page.get(page.size() - 1)));
      }
      page.add(key);
      pageBytes += keyBytes;
    }
    return new KeyPage(page, "");
  }

  /**
   * Merges the posts of {@code authors}, newest first, from before the page token. Each author's
   * posts are in id order, so this is a k-way merge from the end of each list: O(a log p + n log a)
   * for a authors, p posts per author and n posts on the page.
   */
  private static PostPage newestFirst(List<Account> authors, PageRequest request) {
    int limit = Validation.pageLimit(request);
    long before = PageToken.decodeBefore(request == null ? "" : request.token());
    PriorityQueue<Cursor> heads = new PriorityQueue<>(Math.max(1, authors.size()));
    for (Account author : authors) {
      int i = countBefore(author.posts, before) - 1;
      if (i >= 0) {
        heads.add(new Cursor(author.posts, i));
      }
    }
    List<Post> page = new ArrayList<>(Math.min(limit, 64));
    while (page.size() < limit && !heads.isEmpty()) {
      Cursor c = heads.poll();
      page.add(c.post());
      if (--c.index >= 0) {
        heads.add(c);
      }
    }
    String next =
        heads.isEmpty()
            ? ""
            : PageToken.encode(PageToken.POST, Long.toString(page.get(limit - 1).id()));
    return new PostPage(page, next);
  }

  /** The number of posts with an id below {@code before}; ids are increasing. */
  private static int countBefore(List<Post> posts, long before) {
    int lo = 0;
    int hi = posts.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (posts.get(mid).id() < before) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** A position in one author's post list; the newest unread post first. */
  private static final class Cursor implements Comparable<Cursor> {
    final List<Post> posts;
    int index;

    Cursor(List<Post> posts, int index) {
      this.posts = posts;
      this.index = index;
    }

    Post post() {
      return posts.get(index);
    }

    @Override
    public int compareTo(Cursor other) {
      return Long.compare(other.post().id(), post().id());
    }
  }

  private Account account(String handle) {
    Account a = accounts.get(handle);
    if (a == null) {
      throw new Rejection(Code.NOT_FOUND, "user '" + handle + "' does not exist");
    }
    return a;
  }

  /**
   * A digest of the whole state with its sizes: equal for equal states (whatever order their items
   * came in), different, but for a negligible chance, for different ones. Cheap at any size: it is
   * kept up to date by every write (see {@link StateHash}).
   */
  public Payload.StateDigest digest() {
    return new Payload.StateDigest(
        hash.digest(
            lastTimestampMs,
            accounts.size(),
            followEdges,
            postCount,
            kv.size(),
            configured ? 1 : 0,
            limits.maxPostCodePoints(),
            limits.maxSessions(),
            limits.dedupWindow(),
            limits.sessionTimeoutMs(),
            limits.quotas().users(),
            limits.quotas().posts(),
            limits.quotas().followEdges(),
            limits.quotas().followingPerUser(),
            limits.quotas().keys(),
            limits.quotas().kvBytes()),
        accounts.size(),
        followEdges,
        postCount,
        kv.size());
  }

  /** Number of registered users. */
  public int userCount() {
    return accounts.size();
  }

  /** Number of follow edges. */
  public long followEdgeCount() {
    return followEdges;
  }

  /** Number of posts. */
  public long postCount() {
    return postCount;
  }

  /** Number of client sessions open. */
  public int sessionCount() {
    return sessions.count();
  }

  /** Number of keys in the key-value map. */
  public int keyCount() {
    return kv.size();
  }

  // --- access for SnapshotFormat, which writes and rebuilds the state field by field ---

  long lastTimestampMs() {
    return lastTimestampMs;
  }

  void restoreTimestamp(long timestampMs) {
    lastTimestampMs = timestampMs;
  }

  void restoreConfigured(boolean configured) {
    this.configured = configured;
  }

  Iterable<Account> accounts() {
    return Collections.unmodifiableCollection(accounts.values());
  }

  void restoreAccount(Account a) {
    accounts.put(a.handle, a);
  }

  /**
   * Rebuilds the followers sets, the counters and the highest post id from the following sets and
   * post lists (each in id order).
   */
  void restoreDerived() {
    followEdges = 0;
    postCount = 0;
    lastPostId = 0;
    for (Account a : accounts.values()) {
      for (String followee : a.following) {
        accounts.get(followee).followers.add(a.handle);
        followEdges++;
      }
      postCount += a.posts.size();
      if (!a.posts.isEmpty()) {
        lastPostId = Math.max(lastPostId, a.posts.get(a.posts.size() - 1).id());
      }
    }
  }

  /** Sums the hash of the whole state anew, once it has been rebuilt from a snapshot. */
  void rehash() {
    hash.clear();
    for (Account a : accounts.values()) {
      hash.user(1, a.handle, a.displayName, a.createdAtMs);
      for (String followee : a.following) {
        hash.edge(1, a.handle, followee);
      }
      for (Post p : a.posts) {
        hash.post(1, p);
      }
    }
    for (KvEntry e : kv.values()) {
      hash.key(1, e);
    }
    sessions.rehash();
  }

  Account accountOrNull(String handle) {
    return accounts.get(handle);
  }

  Iterable<KvEntry> kvEntries() {
    return Collections.unmodifiableCollection(kv.values());
  }

  void restoreKey(KvEntry e) {
    KvEntry old = kv.put(e.key(), e);
    kvBytes += bytes(e) - (old == null ? 0 : bytes(old));
  }

  Sessions sessions() {
    return sessions;
  }

  /** One user's account: its profile, its follow edges both ways, and its posts in id order. */
  static final class Account {
    final String handle;
    final String displayName;
    final long createdAtMs;
    final TreeSet<String> following = new TreeSet<>();
    final TreeSet<String> followers = new TreeSet<>();
    final ArrayList<Post> posts = new ArrayList<>();

    Account(String handle, String displayName, long createdAtMs) {
      this.handle = handle;
      this.displayName = displayName;
      this.createdAtMs = createdAtMs;
    }

    User toUser() {
      return new User(
          handle, displayName, createdAtMs, followers.size(), following.size(), posts.size());
    }
  }
}

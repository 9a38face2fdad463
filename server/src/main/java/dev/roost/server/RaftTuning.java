package dev.roost.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * The Ratis settings of one Roost server, in one place, with the defaults that bite changed:
 * linearizable reads instead of Ratis' DEFAULT (which lets an isolated old leader serve stale
 * data), snapshots triggered automatically, and log purging that keeps enough entries behind the
 * latest snapshot to replay from the one before it if the newest snapshot file turns out corrupt.
 *
 * @param storageDir where the Raft log and the state machine's snapshots live
 * @param peerBind where the peer port binds: Raft between members
 * @param clientBind where the client port binds: Ratis' client protocol and the write gateway
 * @param electionTimeoutMin lower bound of the randomized election timeout; the leader sends
 *     heartbeats at half of it
 * @param electionTimeoutMax upper bound of the randomized election timeout
 * @param snapshotThreshold applied entries between two automatic snapshots
 * @param reads how the leader confirms it still leads before it answers a linearizable read
 */
public record RaftTuning(
    Path storageDir,
    Bind peerBind,
    Bind clientBind,
    Duration electionTimeoutMin,
    Duration electionTimeoutMax,
    long snapshotThreshold,
    ReadPath reads) {

  /** How a leader makes sure that it still leads before it answers a linearizable read. */
  public enum ReadPath {
    /**
     * Read index (the default): the leader notes its commit index, and answers once a majority has
     * acknowledged a heartbeat sent after the read arrived. No clock assumption.
     */
    READ_INDEX,
    /**
     * Leader lease: a leader that a majority acknowledged within the last 0.9 minimum election
     * timeouts (counted from when it sent what they acknowledged) answers without that round;
     * otherwise it falls back to the read index. Followers refuse to vote for another candidate for
     * a minimum election timeout after they last heard from their leader, so no other leader can
     * exist in that time, provided the members' clocks run at rates within 10% of each other (a
     * bound on drift rate, not on offset: only elapsed monotonic time is compared). A restarted
     * member has forgotten its leader and would vote at once, so with a lease each server waits one
     * maximum election timeout before it starts Raft ({@link RoostServer}).
     */
    LEASE,
    /**
     * Test only: Ratis' DEFAULT read option, where a leader answers from its local state without
     * confirming it still leads; an isolated old leader serves stale data. The chaos suite must
     * catch it.
     */
    UNSAFE_LEADER_LOCAL
  }

  /** Election timeouts for a LAN: a dead leader is replaced in well under a second. */
  public static final Duration DEFAULT_ELECTION_TIMEOUT_MIN = Duration.ofMillis(300);

  /** Upper bound of the default election timeout range. */
  public static final Duration DEFAULT_ELECTION_TIMEOUT_MAX = Duration.ofMillis(600);

  /** Default number of applied entries between automatic snapshots. */
  public static final long DEFAULT_SNAPSHOT_THRESHOLD = 100_000;

  /**
   * The largest log entry Ratis will replicate, and the most bytes of entries in one append
   * request: Ratis' default, twice Roost's 2 MiB command cap; see {@link #toProperties}.
   */
  public static final SizeInBytes APPENDER_BUFFER_LIMIT = SizeInBytes.valueOf("4MB");

  /**
   * The largest gRPC message the Raft port takes in: an append request at {@link
   * #APPENDER_BUFFER_LIMIT} plus the 1 MB Ratis requires above it. Clients and peers share that
   * port, so this, not the 2 MiB command cap, is what one client message may hold in memory before
   * the gateway or the leader refuses it.
   */
  public static final SizeInBytes MESSAGE_SIZE_MAX =
      SizeInBytes.valueOf(APPENDER_BUFFER_LIMIT.getSize() + SizeInBytes.ONE_MB.getSize());

  /**
   * One snapshot chunk sent to a follower. Ratis' default (16 MB) is larger than {@link
   * #MESSAGE_SIZE_MAX}: a follower would refuse every chunk of a large snapshot and never catch up.
   */
  public static final SizeInBytes SNAPSHOT_CHUNK_MAX = SizeInBytes.ONE_MB;

  /**
   * The lease as a share of the minimum election timeout: the margin covers clock rates that differ
   * by up to 10% (Ratis' default, pinned here because the documented guarantee rests on it).
   */
  public static final double LEASE_RATIO = 0.9;

  /** Closed log segments Ratis keeps in memory besides the open one. */
  public static final int LOG_CACHE_SEGMENTS = 2;

  /** The most log bytes Ratis keeps in memory. */
  public static final SizeInBytes LOG_CACHE_BYTES = SizeInBytes.valueOf("64MB");

  /** A server being added counts as caught up within this many entries of the commit index. */
  public static final int STAGING_CATCHUP_GAP = 100;

  /** How long a server being added may stay silent before the change fails. */
  public static final Duration STAGING_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Where one of the gRPC servers binds.
   *
   * @param host a host name or address, or null for every interface
   * @param port the port
   */
  public record Bind(String host, int port) {}

  /** Linearizable reads by read index. */
  public RaftTuning(
      Path storageDir,
      Bind peerBind,
      Bind clientBind,
      Duration electionTimeoutMin,
      Duration electionTimeoutMax,
      long snapshotThreshold) {
    this(
        storageDir,
        peerBind,
        clientBind,
        electionTimeoutMin,
        electionTimeoutMax,
        snapshotThreshold,
        ReadPath.READ_INDEX);
  }

  /** Checks the invariants that Ratis would otherwise report late or obscurely. */
  public RaftTuning {
    if (electionTimeoutMin.isNegative() || electionTimeoutMin.isZero()) {
      throw new IllegalArgumentException("election timeout min must be positive");
    }
    if (electionTimeoutMax.compareTo(electionTimeoutMin) <= 0) {
      throw new IllegalArgumentException("election timeout max must be above min");
    }
    Objects.requireNonNull(reads, "reads");
    if (snapshotThreshold < 1) {
      throw new IllegalArgumentException("snapshot threshold must be at least 1");
    }
  }

  /** The Ratis properties for this server. */
  public RaftProperties toProperties() {
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(storageDir.toFile()));
    // Three gRPC servers: the peer port (Raft between members, and Ratis' admin service, which
    // RatisAdminRefusal refuses), and the client port. Ratis' admin port falls back to the peer
    // port's address when unset.
    if (peerBind.host() != null) {
      GrpcConfigKeys.Server.setHost(p, peerBind.host());
    }
    GrpcConfigKeys.Server.setPort(p, peerBind.port());
    if (clientBind.host() != null) {
      GrpcConfigKeys.Client.setHost(p, clientBind.host());
    }
    GrpcConfigKeys.Client.setPort(p, clientBind.port());

    RaftServerConfigKeys.Read.setOption(
        p,
        reads == ReadPath.UNSAFE_LEADER_LOCAL
            ? RaftServerConfigKeys.Read.Option.DEFAULT
            : RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, reads == ReadPath.LEASE);
    RaftServerConfigKeys.Read.setLeaderLeaseTimeoutRatio(p, LEASE_RATIO);

    RaftServerConfigKeys.Rpc.setTimeoutMin(p, millis(electionTimeoutMin));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, millis(electionTimeoutMax));
    // A request waits this long for its entry to commit before the server answers with a
    // timeout; the client library retries it under the same call id.
    RaftServerConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(3, TimeUnit.SECONDS));

    // Membership (see ClusterAdmin): a server being added is staged, that is sent the log but not
    // counted in any quorum, until its log is within STAGING_CATCHUP_GAP entries of the commit
    // index; Ratis' default gap of 1000 would let a far-behind voter in. A staged server that
    // answers nothing for STAGING_TIMEOUT fails the change, which leaves the configuration as it
    // was (Ratis' default, three election timeouts, is too short for a busy machine). Ratis checks
    // that only while the leader is idle; ClusterAdmin enforces it under load too.
    RaftServerConfigKeys.setStagingCatchupGap(p, STAGING_CATCHUP_GAP);
    RaftServerConfigKeys.setStagingTimeout(p, millis(STAGING_TIMEOUT));

    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, snapshotThreshold);
    RaftServerConfigKeys.Snapshot.setCreationGap(p, Math.min(1024, snapshotThreshold));
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgePreservationLogNum(p, snapshotThreshold);
    // Roost caps a command at 2 MiB (WireLimits.MAX_COMMAND_BYTES); the appender buffer
    // must hold at least one whole entry, or the leader steps down instead of replicating it.
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, APPENDER_BUFFER_LIMIT);
    // The log writer's buffer must hold the largest entry plus its 4-byte length and 4-byte
    // checksum, or every server fails at start (Ratis' default buffer is exactly 8 MB).
    RaftServerConfigKeys.Log.setWriteBufferSize(
        p, SizeInBytes.valueOf(APPENDER_BUFFER_LIMIT.getSize() + 8));
    GrpcConfigKeys.setMessageSizeMax(p, MESSAGE_SIZE_MAX);
    RaftServerConfigKeys.Log.Appender.setSnapshotChunkSizeMax(p, SNAPSHOT_CHUNK_MAX);
    // Ratis keeps up to six closed 32 MB log segments in memory (200 MB) besides the open one; on
    // a 512 MB heap that left the state no room: 10k users, 500k follows and 400k posts filled the
    // old generation and the servers spent seconds in full GCs (elections followed). The cache
    // only spares a follower that lags by less than it a disk read, so keep two (64 MB at most).
    RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, LOG_CACHE_SEGMENTS);
    RaftServerConfigKeys.Log.setSegmentCacheSizeMax(p, LOG_CACHE_BYTES);

    // Write path. Ratis' leader appends a metadata entry (the new commit index) after every
    // commit, which costs one more append, replication round and fsync per batch of writes and
    // doubled the log entries of a lightly loaded cluster; it only lets a restarted member apply
    // up to its old commit index before hearing from a leader, which Raft does not need.
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    // Ratis' append-entries compose option (on by default) chains every append of a follower onto
    // one future: after a partition heals, two appends released together can chain out of order,
    // and once one fails every later one fails with it, for good (the member stays stuck until
    // restarted). Off, the follower appends each batch as it comes.
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
    // raft.server.log.async-flush.enabled stays off: in Ratis 3.3.0 (as in 3.2.2) the asynchronous
    // flush marks as flushed the last index written when the fsync completes (not when it started)
    // and ignores a failed fsync, so an entry could be acknowledged before it is on disk.
    return p;
  }

  private static TimeDuration millis(Duration d) {
    return TimeDuration.valueOf(d.toMillis(), TimeUnit.MILLISECONDS);
  }
}

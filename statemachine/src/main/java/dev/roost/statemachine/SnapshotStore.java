package dev.roost.statemachine;

import dev.roost.domain.RoostState;
import dev.roost.domain.SnapshotFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshot files of one member: {@link SnapshotFormat} files named {@code
 * snapshot.<term>_<index>} in the state machine directory, each with an MD5 file, kept through
 * Ratis' {@link SimpleStateMachineStorage} (which also deletes old ones under the server's
 * retention setting, and which Ratis reads to send a snapshot to a lagging follower).
 *
 * <p>A snapshot is written to a temporary file, forced to disk and renamed, so that a crash never
 * leaves a half-written file under a snapshot name (Ratis picks the highest one on restart). On
 * load, the newest file that reads intact wins; each newer one that does not is renamed {@code
 * *.corrupt}, its MD5 file deleted, and reported, so that Ratis never offers it to anyone.
 *
 * <p>Not thread-safe: Ratis calls the state machine's open, reload and snapshot paths one at a
 * time.
 */
final class SnapshotStore {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotStore.class);

  /**
   * A snapshot read back.
   *
   * @param state the state it holds
   * @param appliedUpTo the last log entry that state reflects
   */
  record Loaded(RoostState state, TermIndex appliedUpTo) {}

  private record Found(Path path, TermIndex termIndex) {}

  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private Path dir;
  private Object member;

  /** Ratis' view of the files: what the state machine returns as its storage. */
  SimpleStateMachineStorage storage() {
    return storage;
  }

  /**
   * Opens the state machine directory of {@code raftStorage} and loads the newest intact snapshot
   * in it.
   *
   * @param member the member's id, for logs
   * @return the snapshot loaded, or null if there is none intact (start empty, replay the whole
   *     log)
   */
  Loaded open(RaftStorage raftStorage, Object member) throws IOException {
    this.dir = raftStorage.getStorageDir().getStateMachineDir().toPath();
    this.member = member;
    // Corrupt snapshots are set aside before Ratis' storage scans the directory, so that it never
    // reports a snapshot that could not be loaded.
    Loaded loaded = loadNewestIntact();
    storage.init(raftStorage);
    return loaded;
  }

  /**
   * Loads again after Ratis replaced the whole directory with a snapshot installed from the leader.
   *
   * @return as {@link #open}
   */
  Loaded reload() throws IOException {
    Loaded loaded = loadNewestIntact();
    storage.loadLatestSnapshot();
    return loaded;
  }

  /**
   * Writes {@code state}, which reflects the log up to {@code appliedUpTo}, as that index's
   * snapshot file, durably; Ratis does not know of it until {@link #publish}. The caller keeps the
   * state from changing meanwhile.
   *
   * @return the file written
   */
  Path write(RoostState state, TermIndex appliedUpTo) throws IOException {
    Path file = storage.getSnapshotFile(appliedUpTo.getTerm(), appliedUpTo.getIndex()).toPath();
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel channel =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      OutputStream out = Channels.newOutputStream(channel);
      SnapshotFormat.write(state, out);
      channel.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return file;
  }

  /**
   * Saves the MD5 of a file {@link #write} made and records it as Ratis' latest snapshot, from
   * which Ratis purges older ones and serves followers.
   *
   * @return the file's size in bytes
   */
  long publish(Path file, TermIndex appliedUpTo) throws IOException {
    FileInfo info = new FileInfo(file, MD5FileUtil.computeAndSaveMd5ForFile(file.toFile()));
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(info, appliedUpTo));
    return Files.size(file);
  }

  private Loaded loadNewestIntact() throws IOException {
    for (Found s : newestFirst()) {
      try {
        RoostState loaded = read(s.path);
        // A crash between write and publish leaves an intact snapshot without its MD5 file; Ratis
        // ignores such a file, and would then report an older snapshot than the one loaded.
        if (!MD5FileUtil.getDigestFileForFile(s.path.toFile()).exists()) {
          MD5FileUtil.computeAndSaveMd5ForFile(s.path.toFile());
        }
        LOG.info(
            "{}: loaded snapshot {} (term {} index {}): {} users, {} posts, {} keys",
            member,
            s.path.getFileName(),
            s.termIndex.getTerm(),
            s.termIndex.getIndex(),
            loaded.userCount(),
            loaded.postCount(),
            loaded.keyCount());
        return new Loaded(loaded, s.termIndex);
      } catch (SnapshotFormat.CorruptSnapshotException e) {
        Path aside = s.path.resolveSibling(s.path.getFileName() + ".corrupt");
        Files.move(s.path, aside, StandardCopyOption.REPLACE_EXISTING);
        Files.deleteIfExists(s.path.resolveSibling(s.path.getFileName() + MD5FileUtil.MD5_SUFFIX));
        LOG.error(
            "{}: snapshot {} is corrupt ({}); moved to {} and trying an older one",
            member,
            s.path.getFileName(),
            e.getMessage(),
            aside.getFileName());
      }
    }
    return null;
  }

  /**
   * Reads a snapshot file in two passes: the whole file's checksum first, in bounded memory, so
   * that nothing a damaged file says is believed; then its contents.
   */
  private RoostState read(Path file) throws IOException {
    long length;
    try (InputStream in = Files.newInputStream(file)) {
      length = SnapshotFormat.verify(in);
    }
    try (InputStream in = Files.newInputStream(file)) {
      return SnapshotFormat.read(in, length);
    }
  }

  private List<Found> newestFirst() throws IOException {
    List<Found> found = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return found;
    }
    try (var files = Files.newDirectoryStream(dir)) {
      for (Path p : files) {
        Matcher m = SimpleStateMachineStorage.SNAPSHOT_REGEX.matcher(p.getFileName().toString());
        if (m.matches()) {
          found.add(
              new Found(
                  p, TermIndex.valueOf(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)))));
        }
      }
    }
    found.sort(Comparator.comparingLong((Found s) -> s.termIndex.getIndex()).reversed());
    return found;
  }
}

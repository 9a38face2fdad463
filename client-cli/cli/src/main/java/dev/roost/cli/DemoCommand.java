package dev.roost.cli;

import dev.roost.client.ClusterStatus;
import dev.roost.client.RoostClient;
import dev.roost.client.RoostException;
import dev.roost.client.Tls;
import dev.roost.proto.PostPage;
import dev.roost.proto.StateDigest;
import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LocalCluster.Node;
import dev.roost.testkit.PostAudit;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;

/**
 * {@code roost demo}: a scripted tour on a throwaway three-node cluster in a temporary directory.
 * Every claim it prints is checked; it exits 1 if one does not hold.
 */
@Command(
    name = "demo",
    description =
        "A tour on a throwaway local cluster: posts, timelines, the leader killed, catch-up.")
final class DemoCommand extends Verb {
  private PrintWriter out;
  private final List<String> failures = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    run();
    return failures.isEmpty() ? 0 : 1;
  }

  @Override
  public void run() throws Exception {
    out = root().out();
    Path home = Files.createTempDirectory("roost-demo-");
    LocalCluster cluster = null;
    try {
      cluster = startCluster(home);
      tour(cluster);
    } finally {
      if (cluster != null) {
        cluster.stopAll(Duration.ofSeconds(5));
        cluster.wipe();
      }
    }
    step(
        failures.isEmpty()
            ? "Done: every check held. The cluster was stopped and its directory removed."
            : "Done, but " + failures.size() + " check(s) failed: " + failures);
  }

  private LocalCluster startCluster(Path home) throws Exception {
    LocalCluster cluster = LocalCluster.createOnFreePorts(home, LocalCluster.defaultServerJar(), 3);
    step("1. Starting a 3-node Roost cluster in " + home);
    cluster.startAll();
    cluster.awaitReady(cluster.nodes(), Duration.ofSeconds(60));
    Node leader = cluster.leader().orElseThrow();
    say("   nodes " + cluster.peers() + "; leader: " + leader.id());
    return cluster;
  }

  private void tour(LocalCluster cluster) throws Exception {
    try (RoostClient client =
        RoostClient.builder()
            .peers(cluster.peers())
            .tls(Tls.of(cluster.caFile()))
            .deadline(Duration.ofSeconds(15))
            .build()) {
      step("2. Registering users and follows");
      for (String h : List.of("alice", "bob", "carol")) {
        client.registerUser(h, "");
      }
      client.follow("alice", "bob");
      client.follow("alice", "carol");
      say("   alice follows bob and carol");

      step("3. Posting and reading alice's timeline (own posts + followed, newest first)");
      client.post("alice", "Hello, Roost!");
      client.post("bob", "Raft replaces the bully election.");
      client.post("carol", "No 30 s synchronizer: the log replicates every post.");
      PostPage timeline = client.timeline("alice", 10, "");
      timeline
          .getPostsList()
          .forEach(p -> say("   #" + p.getId() + " " + p.getAuthor() + ": " + p.getText()));
      check(timeline.getPostsCount() == 3, "alice's timeline shows 3 posts");

      step("4. bob keeps posting while we kill -9 the leader");
      Writer writer = new Writer(cluster.peers(), Tls.of(cluster.caFile()));
      Thread thread = new Thread(writer, "demo-writer");
      thread.start();
      LocalCluster.sleep(Duration.ofSeconds(2));
      Node oldLeader = cluster.leader().orElseThrow(() -> CliException.cluster("no leader"));
      long killedAt = System.nanoTime();
      long ackedBeforeKill = writer.acked.get();
      cluster.kill(oldLeader);
      say(
          "   killed "
              + oldLeader.id()
              + " (pid "
              + oldLeader.pid()
              + ") after "
              + ackedBeforeKill
              + " acknowledged posts");
      Optional<Node> newLeader = Optional.empty();
      while (newLeader.isEmpty()
          && System.nanoTime() - killedAt < Duration.ofSeconds(20).toNanos()) {
        LocalCluster.sleep(Duration.ofMillis(100));
        newLeader = cluster.leader();
      }
      check(newLeader.isPresent(), "a new leader was elected");
      newLeader.ifPresent(
          n ->
              say(
                  "   new leader: "
                      + n.id()
                      + " after "
                      + Duration.ofNanos(System.nanoTime() - killedAt).toMillis()
                      + " ms"));
      long ackedAtElection = writer.acked.get();
      LocalCluster.sleep(Duration.ofSeconds(2));
      writer.stop.set(true);
      thread.join();
      check(writer.acked.get() > ackedAtElection, "writes were acknowledged after the failover");
      say(
          "   bob's writer: "
              + writer.acked.get()
              + " acknowledged, "
              + writer.unknown.get()
              + " outcome unknown, "
              + writer.failed.get()
              + " failed");

      step("5. Checking every acknowledged post is there exactly once");
      PostAudit audit =
          PostAudit.of(
              client.allPosts("bob").toList(), Set.copyOf(writer.ackedTexts), Set.of(), Set.of());
      say(
          "   "
              + audit.acknowledged()
              + " acknowledged, "
              + audit.lost().size()
              + " missing, "
              + audit.duplicated().size()
              + " duplicated");
      check(audit.lost().isEmpty(), "no acknowledged post was lost");
      check(audit.duplicated().isEmpty(), "no post was applied twice");

      step("6. Restarting " + oldLeader.id() + ": it catches up from the leader");
      cluster.start(cluster.node(oldLeader.id()));
      cluster.awaitReady(List.of(cluster.node(oldLeader.id())), Duration.ofSeconds(60));
      compareDigests(cluster);
    }
  }

  private void compareDigests(LocalCluster cluster) {
    Map<String, StateDigest> digests = new HashMap<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      digests.clear();
      for (Node n : cluster.nodes()) {
        try {
          digests.put(
              n.id(),
              ClusterStatus.digest(
                  cluster.peers(), Tls.of(cluster.caFile()), n.id(), Duration.ofSeconds(3)));
        } catch (RoostException e) {
          digests.put(n.id(), null);
        }
      }
      if (!digests.containsValue(null)
          && digests.values().stream().map(StateDigest::getSha256).distinct().count() == 1) {
        break;
      }
      LocalCluster.sleep(Duration.ofMillis(200));
    }
    digests.forEach(
        (id, d) ->
            say(
                "   "
                    + id
                    + ": "
                    + (d == null
                        ? "no answer"
                        : d.getPosts()
                            + " posts, "
                            + d.getUsers()
                            + " users, state sha256 "
                            + d.getSha256().substring(0, 16)
                            + "...")));
    check(
        !digests.containsValue(null)
            && digests.values().stream().map(StateDigest::getSha256).distinct().count() == 1,
        "all three nodes hold the same state");
  }

  /** Posts as bob until stopped, remembering what was acknowledged. */
  private final class Writer implements Runnable {
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicLong acked = new AtomicLong();
    final AtomicLong unknown = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final List<String> ackedTexts = java.util.Collections.synchronizedList(new ArrayList<>());
    private final String peers;
    private final Tls tls;

    Writer(String peers, Tls tls) {
      this.peers = peers;
      this.tls = tls;
    }

    @Override
    public void run() {
      try (RoostClient client =
          RoostClient.builder()
              .peers(peers)
              .tls(tls)
              .deadline(Duration.ofSeconds(10))
              .onLeaderChange(l -> say("   writer: Reconnecting to " + l.display() + "..."))
              .build()) {
        for (int i = 1; !stop.get(); i++) {
          String text = "demo post #" + i;
          try {
            client.post("bob", text);
            ackedTexts.add(text);
            acked.incrementAndGet();
          } catch (RoostException e) {
            (e.outcomeUnknown() ? unknown : failed).incrementAndGet();
          }
        }
      }
    }
  }

  private void step(String text) {
    out.println();
    out.println(text);
    out.flush();
  }

  private synchronized void say(String text) {
    out.println(text);
    out.flush();
  }

  private void check(boolean holds, String claim) {
    say((holds ? "   ok: " : "   FAILED: ") + claim);
    if (!holds) {
      failures.add(claim);
    }
  }
}

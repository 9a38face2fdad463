package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.GatewayMethod;
import dev.roost.api.Peers;
import dev.roost.api.RejectedCommandException;
import dev.roost.proto.Command;
import dev.roost.proto.GatewayReply;
import dev.roost.proto.GetStateDigest;
import dev.roost.proto.KvPut;
import dev.roost.proto.OpenSession;
import dev.roost.proto.Query;
import dev.roost.proto.Reply;
import dev.roost.proto.RequestId;
import dev.roost.proto.StatusCode;
import dev.roost.testkit.LocalCluster;
import dev.roost.testkit.LocalCluster.Node;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.io.grpc.CallOptions;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException;
import org.apache.ratis.thirdparty.io.grpc.netty.GrpcSslContexts;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input against a live 3-node cluster: seeded, mutated commands and queries ({@link
 * HostileMessages}) sent concurrently through every entry point a client reaches (the write gateway
 * of every member, Ratis writes, linearizable reads and stale reads on every member), while a
 * well-behaved writer puts keys through the gateway. Every message must get a typed answer (never
 * INTERNAL, never an untyped failure), the well-behaved writer must get exactly its own replies, no
 * member may die, and once writes stop every member must hold the same state.
 */
class LiveFuzzIT {
  private static final int MESSAGES = 1_500;
  private static final Duration TIME_BUDGET = Duration.ofSeconds(90);
  private static final long SEED = Long.getLong("roost.fuzz.seed", 20261202L);

  @TempDir Path home;

  private LocalCluster cluster;

  @AfterEach
  void stopTheCluster() throws IOException {
    if (cluster != null) {
      cluster.stopAll(Duration.ofSeconds(10));
    }
  }

  @Test
  void everyHostileMessageGetsATypedAnswerAndTheMembersStayAliveAndEqual() throws Exception {
    cluster = LocalCluster.createOnFreePorts(home, ServerProcess.jar(), 3);
    cluster.startAll();
    cluster.awaitReady(cluster.nodes(), Duration.ofSeconds(90));
    Map<String, Long> pids = new HashMap<>();
    cluster.nodes().forEach(n -> pids.put(n.id(), n.pid()));

    Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
    ConcurrentLinkedQueue<String> untyped = new ConcurrentLinkedQueue<>();
    List<ManagedChannel> channels = new ArrayList<>();
    ExecutorService threads = Executors.newFixedThreadPool(5);
    long deadline = System.nanoTime() + TIME_BUDGET.toNanos();
    try (RaftClient raft = raftClient()) {
      for (Node n : cluster.nodes()) {
        channels.add(
            NettyChannelBuilder.forTarget(n.clientAddress())
                .sslContext(
                    GrpcSslContexts.forClient()
                        .trustManager(cluster.caFile().orElseThrow().toFile())
                        .build())
                .build());
      }
      List<Future<?>> work = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long seed = SEED + t;
        work.add(
            threads.submit(
                () -> {
                  HostileMessages hostile = new HostileMessages(seed);
                  SplittableRandom route = new SplittableRandom(seed);
                  for (int i = 0; i < MESSAGES / 4 && System.nanoTime() < deadline; i++) {
                    int member = route.nextInt(channels.size());
                    String outcome =
                        switch (route.nextInt(4)) {
                          case 0 -> gateway(channels.get(member), hostile.command());
                          case 1 -> raftWrite(raft, hostile.command());
                          case 2 -> raftRead(raft, hostile.query(), null);
                          default ->
                              raftRead(raft, hostile.query(), cluster.nodes().get(member).id());
                        };
                    outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
                    if (outcome.startsWith("UNTYPED")) {
                      untyped.add(outcome);
                    }
                  }
                  return null;
                }));
      }
      Future<List<String>> canary = threads.submit(() -> canary(channels, deadline));
      for (Future<?> f : work) {
        f.get(TIME_BUDGET.toSeconds() + 60, TimeUnit.SECONDS);
      }
      List<String> wrongReplies = canary.get(TIME_BUDGET.toSeconds() + 60, TimeUnit.SECONDS);

      Map<String, Long> counts = new TreeMap<>();
      outcomes.forEach((k, v) -> counts.put(k, v.sum()));
      System.out.println("LiveFuzzIT seed " + SEED + " outcomes: " + counts);
      assertThat(untyped).as("answers that are not a typed refusal or a reply").isEmpty();
      assertThat(wrongReplies)
          .as("well-behaved puts answered with another write's reply")
          .isEmpty();
      assertThat(counts.values().stream().mapToLong(Long::longValue).sum())
          .as("messages sent")
          .isGreaterThan(MESSAGES / 4);
    } finally {
      threads.shutdownNow();
      channels.forEach(ManagedChannel::shutdownNow);
    }

    for (Node n : cluster.nodes()) {
      assertThat(n.alive()).as(n.id() + " alive").isTrue();
      assertThat(n.pid()).as(n.id() + " not restarted").isEqualTo(pids.get(n.id()));
    }
    cluster.awaitReady(cluster.nodes(), Duration.ofSeconds(60));
    assertThat(digestsOnceApplied()).as("state digests of the members").hasSize(1);
  }

  /** Through one member's write gateway; a definite answer is any outcome but INTERNAL. */
  private static String gateway(ManagedChannel channel, byte[] command) {
    byte[] answer;
    try {
      answer =
          ClientCalls.blockingUnaryCall(
              channel,
              GatewayMethod.SUBMIT,
              CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS),
              command);
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      return code == Status.Code.INVALID_ARGUMENT || code == Status.Code.RESOURCE_EXHAUSTED
          ? "gateway: " + code
          : "UNTYPED gateway status " + e.getStatus();
    }
    GatewayReply reply;
    try {
      reply = GatewayReply.parseFrom(answer);
    } catch (InvalidProtocolBufferException e) {
      return "UNTYPED gateway answer that is no GatewayReply";
    }
    return switch (reply.getOutcome()) {
      case ANSWERED -> "gateway answered: " + replyCode(reply.getReply().toByteArray());
      case REJECTED ->
          reply.getCode() == StatusCode.INTERNAL || reply.getCode() == StatusCode.OK
              ? "UNTYPED gateway rejection " + reply.getCode() + ": " + reply.getMessage()
              : "gateway rejected: " + reply.getCode();
      case NOT_TAKEN -> "gateway not taken (a follower)";
      default -> "UNTYPED gateway outcome " + reply.getOutcome() + ": " + reply.getMessage();
    };
  }

  private static String raftWrite(RaftClient raft, byte[] command) {
    try {
      RaftClientReply reply = raft.io().send(Message.valueOf(ByteString.copyFrom(command)));
      return "raft write: " + replyCode(reply.getMessage().getContent().toByteArray());
    } catch (StateMachineException e) {
      return e.getCause() instanceof RejectedCommandException r && r.code() != StatusCode.INTERNAL
          ? "raft write rejected: " + r.code()
          : "UNTYPED raft write refusal " + e;
    } catch (IOException e) {
      return "UNTYPED raft write failure " + e;
    }
  }

  /** A linearizable read through the leader, or a stale read on {@code member}. */
  private static String raftRead(RaftClient raft, byte[] query, String member) {
    Message request = Message.valueOf(ByteString.copyFrom(query));
    try {
      RaftClientReply reply =
          member == null
              ? raft.io().sendReadOnly(request)
              : raft.io().sendStaleRead(request, 0, RaftPeerId.valueOf(member));
      return (member == null ? "read: " : "stale read: ")
          + replyCode(reply.getMessage().getContent().toByteArray());
    } catch (IOException e) {
      return "UNTYPED read failure " + e;
    }
  }

  /** A reply's code, or UNTYPED if it is none or INTERNAL (a bug the input found). */
  private static String replyCode(byte[] bytes) {
    try {
      Reply reply = Reply.parseFrom(bytes);
      return reply.getCode() == StatusCode.INTERNAL
          ? "UNTYPED INTERNAL reply: " + reply.getMessage()
          : reply.getCode().name();
    } catch (InvalidProtocolBufferException e) {
      return "UNTYPED reply that is no Reply";
    }
  }

  /**
   * Puts distinct keys through the leader's gateway while the hostile messages go in, so that they
   * share combined entries with them; each reply must be the put's own (its key).
   */
  private List<String> canary(List<ManagedChannel> channels, long deadline) throws Exception {
    List<String> wrong = new ArrayList<>();
    long session = 0;
    long sequence = 0;
    while (System.nanoTime() < deadline && sequence < MESSAGES / 2) {
      Node leader = cluster.leader().orElse(null);
      if (leader == null) {
        LocalCluster.sleep(Duration.ofMillis(50));
        continue;
      }
      ManagedChannel channel = channels.get(cluster.nodes().indexOf(leader));
      if (session == 0) {
        GatewayReply opened =
            submit(
                channel,
                Command.newBuilder().setOpenSession(OpenSession.getDefaultInstance()).build());
        if (opened.getOutcome() == GatewayReply.Outcome.ANSWERED) {
          session = Reply.parseFrom(opened.getReply()).getSession().getId();
        }
        continue;
      }
      String key = "canary/" + (++sequence);
      Command put =
          Command.newBuilder()
              .setRequestId(
                  RequestId.newBuilder()
                      .setSession(session)
                      .setSequence(sequence)
                      .setFirstUnanswered(sequence))
              .setKvPut(
                  KvPut.newBuilder()
                      .setKey(key)
                      .setValue(com.google.protobuf.ByteString.copyFromUtf8(key)))
              .build();
      GatewayReply answer = submit(channel, put);
      if (answer.getOutcome() == GatewayReply.Outcome.NOT_TAKEN) {
        continue;
      }
      Reply reply = Reply.parseFrom(answer.getReply());
      if (answer.getOutcome() != GatewayReply.Outcome.ANSWERED
          || reply.getCode() != StatusCode.OK
          || !reply.getKvEntry().getKey().equals(key)) {
        wrong.add(key + " got " + answer.getOutcome() + " " + reply);
      }
    }
    return wrong;
  }

  private static GatewayReply submit(ManagedChannel channel, Command command) throws Exception {
    return GatewayReply.parseFrom(
        ClientCalls.blockingUnaryCall(
            channel,
            GatewayMethod.SUBMIT,
            CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS),
            command.toByteArray()));
  }

  private RaftClient raftClient() {
    RaftProperties properties = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        properties, TimeDuration.valueOf(30, TimeUnit.SECONDS));
    return RaftClient.newBuilder()
        .setRaftGroup(Peers.group(Peers.parse(cluster.peers())))
        .setProperties(properties)
        .setParameters(TlsFiles.raftClientParameters(cluster.caFile().orElseThrow()))
        .setRetryPolicy(
            RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                20, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
        .build();
  }

  /** The members' distinct state digests, read once all have applied the same index. */
  private Set<String> digestsOnceApplied() throws Exception {
    byte[] digest =
        Query.newBuilder()
            .setGetStateDigest(GetStateDigest.getDefaultInstance())
            .build()
            .toByteArray();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    try (RaftClient raft = raftClient()) {
      while (true) {
        Map<String, Reply> replies = new HashMap<>();
        for (Node n : cluster.nodes()) {
          RaftClientReply r =
              raft.io()
                  .sendStaleRead(
                      Message.valueOf(ByteString.copyFrom(digest)), 0, RaftPeerId.valueOf(n.id()));
          replies.put(n.id(), Reply.parseFrom(r.getMessage().getContent().toByteArray()));
        }
        Set<Long> applied =
            replies.values().stream().map(Reply::getAppliedIndex).collect(Collectors.toSet());
        if (applied.size() == 1 || System.nanoTime() > deadline) {
          return replies.values().stream()
              .map(r -> r.getAppliedIndex() + " " + r.getStateDigest().getSha256())
              .collect(Collectors.toSet());
        }
        LocalCluster.sleep(Duration.ofMillis(200));
      }
    }
  }
}

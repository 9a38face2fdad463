package dev.roost.server;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.roost.api.GrpcBytes;
import dev.roost.api.Peers;
import dev.roost.proto.ClockReading;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.ratis.grpc.server.GrpcServices;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.io.grpc.CallOptions;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.MethodDescriptor;
import org.apache.ratis.thirdparty.io.grpc.ServerServiceDefinition;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyServerBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls;
import org.apache.ratis.thirdparty.io.grpc.stub.ServerCalls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The members' clocks, as this member reads them, and the time the leader stamps into writes.
 *
 * <p>A write's time is the leader's wall clock, and timestamps never go back (the state machine
 * keeps the latest one it applied). So a leader whose clock runs far ahead would pin every later
 * timestamp, also after it lost office. A single clock cannot tell "I am ahead" from "time passed":
 * only other clocks can. Every member therefore reads its peers' clocks every second ({@code
 * roost.v1.PeerClock/Now} on the Raft port, offset estimated from the round trip), and {@link #now}
 * stamps with the members' time instead of its own when its own runs ahead of a majority of the
 * voters' clocks by more than {@link #TOLERANCE_MS}: one bad clock, the leader's included, cannot
 * move time. Without fresh readings from a majority (a member alone, or its peers unreachable) it
 * can tell nothing, and uses its own clock.
 */
final class PeerClocks implements GrpcServices.Customizer, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PeerClocks.class);

  /** How far ahead of the majority's time the own clock may run before it is not used. */
  static final long TOLERANCE_MS = 1_000;

  /** How often each peer's clock is read. */
  static final long INTERVAL_MS = 1_000;

  /** How old a reading may be and still count. */
  static final long FRESH_NANOS = TimeUnit.SECONDS.toNanos(10);

  private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

  private static final String SERVICE = "roost.v1.PeerClock";

  private static final MethodDescriptor<byte[], byte[]> NOW =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Now"))
          .setRequestMarshaller(GrpcBytes.MARSHALLER)
          .setResponseMarshaller(GrpcBytes.MARSHALLER)
          .build();

  private record Reading(long offsetMs, long atNanos) {}

  private final String self;
  private final LongSupplier ownClockMs;
  private final TlsFiles tls;
  private final Map<String, Reading> readings = new ConcurrentHashMap<>();
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private ScheduledExecutorService poller;
  // Worked out once a second by the poller, not per write: stamping is on the write path.
  private volatile OptionalLong ahead = OptionalLong.empty();
  private volatile long lastWarnNanos = System.nanoTime() - WARN_EVERY_NANOS;

  /**
   * @param self this member's id
   * @param ownClockMs this member's wall clock
   * @param tls how to reach the other members' peer ports; null for plaintext
   */
  PeerClocks(String self, LongSupplier ownClockMs, TlsFiles tls) {
    this.self = self;
    this.ownClockMs = ownClockMs;
    this.tls = tls;
  }

  @Override
  public NettyServerBuilder customize(
      NettyServerBuilder builder, EnumSet<GrpcServices.Type> types) {
    if (!types.contains(GrpcServices.Type.SERVER)) {
      return builder;
    }
    return builder.addService(
        ServerServiceDefinition.builder(SERVICE)
            .addMethod(
                NOW,
                ServerCalls.asyncUnaryCall(
                    (request, response) -> {
                      response.onNext(
                          ClockReading.newBuilder()
                              .setWallMs(ownClockMs.getAsLong())
                              .build()
                              .toByteArray());
                      response.onCompleted();
                    }))
            .build());
  }

  /** Starts reading the clocks of {@code raftServer}'s peers. */
  synchronized void start(RaftServer raftServer) {
    poller = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("roost-peer-clocks"));
    poller.scheduleWithFixedDelay(() -> readAll(raftServer), 0, INTERVAL_MS, TimeUnit.MILLISECONDS);
  }

  /**
   * The time to stamp a write with: this member's clock, or, when that runs ahead of a majority of
   * the voters' clocks by more than {@link #TOLERANCE_MS}, the majority's time.
   */
  long now() {
    long own = ownClockMs.getAsLong();
    long stamp = bounded(own, ahead);
    long now = System.nanoTime();
    if (stamp != own && now - lastWarnNanos >= WARN_EVERY_NANOS) {
      lastWarnNanos = now;
      LOG.warn(
          "{}: wall clock {} ms ahead of a majority of the members' clocks; writes are stamped"
              + " with the majority's time",
          self,
          own - stamp);
    }
    return stamp;
  }

  /**
   * How far this member's clock runs ahead of the time a majority of the voters' clocks agree on
   * (negative: behind), or empty without fresh readings from enough of them to tell.
   */
  OptionalLong aheadOfMajorityMs() {
    return ahead;
  }

  /**
   * {@code ownMs}, or the majority's time if {@code ownMs} runs ahead of it ({@code aheadMs}, as
   * {@link #ahead} works it out) by more than {@link #TOLERANCE_MS}.
   */
  static long bounded(long ownMs, OptionalLong aheadMs) {
    long by = aheadMs.orElse(0);
    return by > TOLERANCE_MS ? ownMs - by : ownMs;
  }

  /**
   * How far our clock runs ahead of the time a majority of the voters' clocks agree on, or empty
   * without enough readings to tell.
   *
   * @param peerOffsetsMs fresh readings of the other voters' clocks, each as its offset from ours
   * @param voters voters in the configuration, this member included
   */
  static OptionalLong ahead(List<Long> peerOffsetsMs, int voters) {
    int majority = voters / 2 + 1;
    if (peerOffsetsMs.size() + 1 < majority) {
      return OptionalLong.empty();
    }
    List<Long> offsets = new ArrayList<>(peerOffsetsMs);
    offsets.add(0L);
    offsets.sort(null);
    // A majority of the clocks read at most this: no fewer than a majority can push it up.
    return OptionalLong.of(-offsets.get(majority - 1));
  }

  private List<Long> freshOffsets() {
    long now = System.nanoTime();
    List<Long> offsets = new ArrayList<>();
    readings.forEach(
        (peer, r) -> {
          if (now - r.atNanos() <= FRESH_NANOS) {
            offsets.add(r.offsetMs());
          }
        });
    return offsets;
  }

  private void readAll(RaftServer server) {
    List<RaftPeer> peers;
    try {
      peers =
          new ArrayList<>(
              server
                  .getDivision(Peers.GROUP_ID)
                  .getRaftConf()
                  .getCurrentPeers(RaftPeerRole.FOLLOWER));
    } catch (IOException | RuntimeException e) {
      // No longer in the group, or closing: nothing can be told.
      ahead = OptionalLong.empty();
      return;
    }
    for (RaftPeer peer : peers) {
      String id = peer.getId().toString();
      if (id.equals(self)) {
        continue;
      }
      try {
        long sentMs = ownClockMs.getAsLong();
        byte[] answer =
            ClientCalls.blockingUnaryCall(
                channels.computeIfAbsent(peer.getAddress(), a -> TlsFiles.peerChannel(tls, a)),
                NOW,
                CallOptions.DEFAULT.withDeadlineAfter(500, TimeUnit.MILLISECONDS),
                new byte[0]);
        long receivedMs = ownClockMs.getAsLong();
        long peerMs = ClockReading.parseFrom(answer).getWallMs();
        readings.put(id, new Reading(peerMs - (sentMs + receivedMs) / 2, System.nanoTime()));
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        // Down, partitioned or slow: its last reading ages out.
      }
    }
    ahead = ahead(freshOffsets(), peers.size());
    // Members that left: forget their readings and close their channels.
    readings
        .keySet()
        .removeIf(id -> peers.stream().noneMatch(p -> p.getId().toString().equals(id)));
    channels
        .entrySet()
        .removeIf(
            e -> {
              boolean gone = peers.stream().noneMatch(p -> p.getAddress().equals(e.getKey()));
              if (gone) {
                e.getValue().shutdownNow();
              }
              return gone;
            });
  }

  @Override
  public synchronized void close() {
    if (poller != null) {
      poller.shutdownNow();
    }
    channels.values().forEach(ManagedChannel::shutdownNow);
  }
}

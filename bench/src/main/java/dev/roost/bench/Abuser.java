package dev.roost.bench;

import com.google.protobuf.ByteString;
import dev.roost.api.GatewayMethod;
import dev.roost.api.Peers;
import dev.roost.api.Pem;
import dev.roost.client.RoostClient;
import dev.roost.client.Tls;
import dev.roost.proto.Command;
import dev.roost.proto.GetStateDigest;
import dev.roost.proto.KvPut;
import dev.roost.proto.Query;
import dev.roost.proto.QueryBatch;
import dev.roost.proto.RequestId;
import dev.roost.testkit.LocalCluster.Node;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import javax.net.SocketFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.io.grpc.CallOptions;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException;
import org.apache.ratis.thirdparty.io.grpc.netty.GrpcSslContexts;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslContext;

/**
 * One abusive client of {@code roost bench abuse}, on threads of its own until {@link #close}: it
 * sends every member commands over the size limit (one just over it, one over what gRPC takes),
 * reads the largest {@code kv list} pages there are, asks for batches of state digests, and keeps
 * half-sent HTTP requests open on every member's HTTP port. It counts what it got back, by kind and
 * answer, and how long each member's {@code /health} took meanwhile. It connects as any client
 * would, over TLS when the cluster has a CA, so that what it tests is the servers, not the
 * handshake refusing it.
 */
final class Abuser implements AutoCloseable {
  /** Keys of 1 MiB values that the page reads list, made by {@link #seed}. */
  static final String BIG_PREFIX = "abuse/";

  private static final int BIG_VALUES = 40;
  private static final int HALF_OPEN_PER_MEMBER = 64;
  private static final Duration CALL_DEADLINE = Duration.ofSeconds(10);

  private final List<Node> members;
  private final String peers;
  private final Tls tls;

  /** TLS of the gRPC channels to client ports; null for plaintext. */
  private final SslContext grpcTls;

  /** Sockets to HTTP ports: TLS ones when the cluster has a CA. */
  private final SocketFactory httpSockets;

  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();
  private final Map<String, LongAdder> answers = new ConcurrentHashMap<>();
  private final AtomicLong worstHealthMillis = new AtomicLong();
  private final LongAdder healthFailures = new LongAdder();

  Abuser(List<Node> members, String peers, Tls tls) throws SSLException {
    this.members = List.copyOf(members);
    this.peers = peers;
    this.tls = tls;
    Optional<Path> ca = tls.ca();
    this.grpcTls =
        ca.isEmpty() ? null : GrpcSslContexts.forClient().trustManager(ca.get().toFile()).build();
    this.httpSockets =
        ca.isEmpty() ? SocketFactory.getDefault() : Pem.clientContext(ca.get()).getSocketFactory();
  }

  /** Puts the 1 MiB values that the page reads list; run once, before any measured phase. */
  static void seed(String peers, Tls tls) {
    byte[] value = new byte[1 << 20];
    new SplittableRandom(1).nextBytes(value);
    try (RoostClient client =
        RoostClient.builder().peers(peers).tls(tls).deadline(Duration.ofSeconds(60)).build()) {
      for (int i = 0; i < BIG_VALUES; i++) {
        client.kvPut(BIG_PREFIX + i, value);
      }
    }
  }

  /** Starts every kind of abuse. */
  Abuser start() {
    for (Node member : members) {
      spawn("oversize-" + member.id(), () -> oversize(member));
      spawn("half-open-" + member.id(), () -> halfOpen(member));
      spawn("health-" + member.id(), () -> health(member));
    }
    spawn("big-pages", this::bigPages);
    spawn("digests", this::digests);
    return this;
  }

  /** What the abuse got back: "kind: answer" → count. */
  Map<String, Long> answers() {
    Map<String, Long> counts = new TreeMap<>();
    answers.forEach((k, v) -> counts.put(k, v.sum()));
    return counts;
  }

  /** The slowest {@code /health} answer seen while abusing, in milliseconds. */
  long worstHealthMillis() {
    return worstHealthMillis.get();
  }

  /** {@code /health} requests that failed or took over 5 s while abusing. */
  long healthFailures() {
    return healthFailures.sum();
  }

  @Override
  public void close() throws InterruptedException {
    stop.set(true);
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(20));
    }
  }

  private void spawn(String name, Runnable body) {
    Thread t = new Thread(body, "abuser-" + name);
    t.setDaemon(true);
    threads.add(t);
    t.start();
  }

  private void count(String kind, String answer) {
    answers.computeIfAbsent(kind + ": " + answer, k -> new LongAdder()).increment();
  }

  /** Commands over the 2 MiB command limit, and over gRPC's message limit, to the gateway. */
  private void oversize(Node member) {
    ManagedChannel channel = channel(member.clientAddress());
    long sequence = 0;
    try {
      while (!stop.get()) {
        for (int size : new int[] {(2 << 20) + 1024, 20 << 20}) {
          byte[] command =
              Command.newBuilder()
                  // Refused for its size before the log: no session need be open.
                  .setRequestId(
                      RequestId.newBuilder()
                          .setSession(1)
                          .setSequence(++sequence)
                          .setFirstUnanswered(sequence))
                  .setKvPut(
                      KvPut.newBuilder()
                          .setKey("abuse/oversize")
                          .setValue(ByteString.copyFrom(new byte[size])))
                  .build()
                  .toByteArray();
          try {
            ClientCalls.blockingUnaryCall(
                channel,
                GatewayMethod.SUBMIT,
                CallOptions.DEFAULT.withDeadlineAfter(
                    CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS),
                command);
            count("oversize " + (size >> 20) + " MiB", "answered");
          } catch (StatusRuntimeException e) {
            count("oversize " + (size >> 20) + " MiB", e.getStatus().getCode().name());
          }
        }
      }
    } finally {
      channel.shutdownNow();
    }
  }

  /** The largest {@code kv list} pages: 200 entries over the 1 MiB values, again and again. */
  private void bigPages() {
    try (RoostClient client =
        RoostClient.builder().peers(peers).tls(tls).deadline(CALL_DEADLINE).build()) {
      while (!stop.get()) {
        try {
          String token = "";
          do {
            token = client.kvList(BIG_PREFIX, 200, token).getNextPageToken();
            count("kv list page of 1 MiB values", "OK");
          } while (!token.isEmpty() && !stop.get());
        } catch (RuntimeException e) {
          count("kv list page of 1 MiB values", answerOf(e));
        }
      }
    }
  }

  /** Batches of 1,024 state-digest queries, each a linearizable read on the leader. */
  private void digests() {
    Query digest =
        Query.newBuilder().setGetStateDigest(GetStateDigest.getDefaultInstance()).build();
    QueryBatch.Builder batch = QueryBatch.newBuilder();
    for (int i = 0; i < 1024; i++) {
      batch.addQueries(digest);
    }
    Message request =
        Message.valueOf(
            org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(
                Query.newBuilder().setBatch(batch).build().toByteArray()));
    try (RaftClient client =
        RaftClient.newBuilder()
            .setRaftGroup(Peers.group(Peers.parse(peers)))
            .setProperties(new RaftProperties())
            .setParameters(tls.raftParameters())
            .setRetryPolicy(RetryPolicies.noRetry())
            .build()) {
      while (!stop.get()) {
        try {
          client.io().sendReadOnly(request);
          count("batch of 1,024 digests", "answered");
        } catch (IOException | RuntimeException e) {
          count("batch of 1,024 digests", e.getClass().getSimpleName());
          sleep(100);
        }
      }
    } catch (IOException e) {
      count("batch of 1,024 digests", "client failed: " + e.getClass().getSimpleName());
    }
  }

  /** Connections that send half an HTTP request and then nothing, kept open as long as allowed. */
  private void halfOpen(Node member) {
    List<Socket> open = new ArrayList<>();
    byte[] half =
        ("GET /health HTTP/1.1\r\nHost: " + member.httpAddress() + "\r\nX-Slow: ")
            .getBytes(StandardCharsets.US_ASCII);
    try {
      while (!stop.get()) {
        open.removeIf(Socket::isClosed);
        while (open.size() < HALF_OPEN_PER_MEMBER && !stop.get()) {
          Socket s = null;
          try {
            s = httpSocket();
            s.connect(new InetSocketAddress(member.host(), member.httpPort()), 2000);
            OutputStream out = s.getOutputStream();
            out.write(half);
            out.flush();
            open.add(s);
            count("half-open HTTP request", "opened");
          } catch (IOException e) {
            if (s != null) {
              closeQuietly(s);
            }
            count("half-open HTTP request", "refused");
            break;
          }
        }
        for (Socket s : open) {
          try {
            // One more byte of the header now and then: a server that only times out idle
            // connections keeps these forever.
            s.getOutputStream().write('x');
          } catch (IOException e) {
            closeQuietly(s);
            count("half-open HTTP request", "closed by server");
          }
        }
        sleep(500);
      }
    } finally {
      open.forEach(Abuser::closeQuietly);
    }
  }

  /** What an operator's liveness probe sees: {@code GET /health} once a second, timed. */
  private void health(Node member) {
    while (!stop.get()) {
      long started = System.nanoTime();
      boolean ok;
      try (Socket s = httpSocket()) {
        s.connect(new InetSocketAddress(member.host(), member.httpPort()), 5000);
        s.setSoTimeout(5000);
        s.getOutputStream()
            .write(
                ("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        String status = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
        ok = status.startsWith("HTTP/1.1 200");
      } catch (IOException e) {
        ok = false;
      }
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      worstHealthMillis.accumulateAndGet(millis, Math::max);
      if (!ok) {
        healthFailures.increment();
      }
      sleep(1000);
    }
  }

  /** A gRPC channel to a client port, secured as the client library's are. */
  private ManagedChannel channel(String target) {
    NettyChannelBuilder b = NettyChannelBuilder.forTarget(target);
    return (grpcTls == null ? b.usePlaintext() : b.sslContext(grpcTls)).build();
  }

  /**
   * An unconnected socket to an HTTP port. With TLS it checks the member's certificate names the
   * host, as HTTPS clients do; the handshake happens on the first write.
   */
  private Socket httpSocket() throws IOException {
    Socket s = httpSockets.createSocket();
    if (s instanceof SSLSocket ssl) {
      SSLParameters parameters = ssl.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      ssl.setSSLParameters(parameters);
    }
    return s;
  }

  private static String answerOf(RuntimeException e) {
    return e instanceof dev.roost.client.RoostException r
        ? r.code().name()
        : e.getClass().getSimpleName();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // Nothing to do: the abuse only needs it gone.
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

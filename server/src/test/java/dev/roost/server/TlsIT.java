package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.roost.api.GrpcBytes;
import dev.roost.api.Peers;
import dev.roost.api.Pem;
import dev.roost.pki.CertificateAuthority;
import dev.roost.proto.GetStateDigest;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.Query;
import dev.roost.testkit.LoopbackPorts;
import dev.roost.testkit.StatusProbe;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.proto.grpc.RaftServerProtocolServiceGrpc;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.io.grpc.CallOptions;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.MethodDescriptor;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException;
import org.apache.ratis.thirdparty.io.grpc.netty.GrpcSslContexts;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslContextBuilder;
import org.apache.ratis.util.ProtoUtils;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real servers with TLS as a newcomer gets it (certificates from the cluster's CA, nothing
 * else configured), and what reaches each port: every refusal is a real connection attempt, next to
 * the same call that passes with the right credentials, so a refusal proves the transport refused,
 * not that the call was malformed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TlsIT {
  private static final Duration STARTUP = Duration.ofSeconds(60);
  private static final Duration CALL = Duration.ofSeconds(5);

  @TempDir static Path dir;

  private static final List<ServerProcess> started = new ArrayList<>();
  private static Path certs;
  private static Path strangerCerts;
  private static int[] raftPorts;
  private static int[] clientPorts;
  private static int[] httpPorts;
  private static String peers;

  @BeforeAll
  static void startASecureCluster() throws Exception {
    certs = dir.resolve("certs");
    CertificateAuthority ca = CertificateAuthority.create("test cluster CA", Duration.ofDays(30));
    ca.save(certs);
    for (String id : List.of("n1", "n2", "n3", "member-cert")) {
      ca.issue(id, List.of("127.0.0.1", "localhost"), Duration.ofDays(10)).save(certs, id);
    }
    // A stranger with a CA of its own and a certificate for the same addresses.
    strangerCerts = dir.resolve("stranger");
    CertificateAuthority other = CertificateAuthority.create("stranger CA", Duration.ofDays(30));
    other.save(strangerCerts);
    other.issue("n1", List.of("127.0.0.1"), Duration.ofDays(10)).save(strangerCerts, "n1");

    raftPorts = IntStream.range(0, 3).map(i -> LoopbackPorts.one()).toArray();
    clientPorts = IntStream.range(0, 3).map(i -> LoopbackPorts.one()).toArray();
    httpPorts = IntStream.range(0, 3).map(i -> LoopbackPorts.one()).toArray();
    peers =
        IntStream.range(0, 3)
            .mapToObj(i -> "n" + (i + 1) + "=127.0.0.1:" + raftPorts[i] + "/" + clientPorts[i])
            .collect(Collectors.joining(","));
    for (int i = 0; i < 3; i++) {
      start(i, certs.resolve("n" + (i + 1)));
    }
    await().atMost(STARTUP).pollInterval(Duration.ofMillis(200)).until(TlsIT::allReady);
  }

  /** Starts member {@code i} with the certificate and key at {@code certBase}.crt/.key. */
  private static ServerProcess start(int i, Path certBase) {
    String id = "n" + (i + 1);
    ServerProcess p =
        ServerProcess.start(
            id,
            peers,
            dir.resolve(id),
            httpPorts[i],
            "--tls-ca",
            certs.resolve(CertificateAuthority.CERT_FILE).toString(),
            "--tls-cert",
            certBase + ".crt",
            "--tls-key",
            certBase + ".key");
    started.add(p);
    return p;
  }

  @AfterAll
  static void stopThem() throws InterruptedException {
    for (ServerProcess p : started) {
      p.close();
    }
  }

  private static Path ca() {
    return certs.resolve(CertificateAuthority.CERT_FILE);
  }

  private static Optional<MemberStatus> status(int i) {
    return new StatusProbe(Duration.ofSeconds(2), ca()).fetch("127.0.0.1:" + httpPorts[i]);
  }

  private static boolean allReady() {
    return IntStream.range(0, 3).allMatch(i -> status(i).map(MemberStatus::getReady).orElse(false));
  }

  /** Roost's own peer-port service: harmless to call, served only to members. */
  private static final MethodDescriptor<byte[], byte[]> CLOCK =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName("roost.v1.PeerClock", "Now"))
          .setRequestMarshaller(GrpcBytes.MARSHALLER)
          .setResponseMarshaller(GrpcBytes.MARSHALLER)
          .build();

  private static byte[] askClock(ManagedChannel channel) {
    try {
      return ClientCalls.blockingUnaryCall(
          channel, CLOCK, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), new byte[0]);
    } finally {
      channel.shutdownNow();
    }
  }

  private static ManagedChannel plaintext(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  /** A TLS channel trusting {@code trusted}, presenting {@code certBase}.crt/.key if given. */
  private static ManagedChannel tls(int port, Path trusted, Path certBase) throws IOException {
    SslContextBuilder ssl = GrpcSslContexts.forClient().trustManager(trusted.toFile());
    if (certBase != null) {
      ssl.keyManager(new File(certBase + ".crt"), new File(certBase + ".key"));
    }
    return NettyChannelBuilder.forAddress("127.0.0.1", port).sslContext(ssl.build()).build();
  }

  private static void assertRefused(ManagedChannel channel) {
    assertThatThrownBy(() -> askClock(channel))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void onlyAMemberCertificateSpeaksOnThePeerPort() throws Exception {
    int port = raftPorts[0];
    // Plaintext, TLS without a certificate, and a certificate of another CA: all refused.
    assertRefused(plaintext(port));
    assertRefused(tls(port, ca(), null));
    assertRefused(tls(port, ca(), strangerCerts.resolve("n1")));
    // A certificate of the cluster's CA passes, with the very same call.
    assertThat(askClock(tls(port, ca(), certs.resolve("member-cert")))).isNotEmpty();
  }

  @Test
  void aStrangerCannotCallAnElectionWhateverTheTermItClaims() throws Exception {
    long termBefore = status(0).orElseThrow().getTerm();
    RequestVoteRequestProto vote =
        RequestVoteRequestProto.newBuilder()
            .setServerRequest(
                RaftRpcRequestProto.newBuilder()
                    .setRequestorId(RaftPeerId.valueOf("n9").toByteString())
                    .setReplyId(RaftPeerId.valueOf("n1").toByteString())
                    .setRaftGroupId(ProtoUtils.toRaftGroupIdProtoBuilder(Peers.GROUP_ID)))
            .setCandidateTerm(termBefore + 1000)
            .build();
    for (ManagedChannel channel :
        List.of(
            plaintext(raftPorts[0]),
            tls(raftPorts[0], ca(), null),
            tls(raftPorts[0], ca(), strangerCerts.resolve("n1")))) {
      try {
        assertThatThrownBy(
                () ->
                    RaftServerProtocolServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(5, TimeUnit.SECONDS)
                        .requestVote(vote))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
      } finally {
        channel.shutdownNow();
      }
    }
    // Nobody moved to the stranger's term.
    for (int i = 0; i < 3; i++) {
      assertThat(status(i).orElseThrow().getTerm()).isLessThan(termBefore + 1000);
    }
  }

  private static RaftClient raftClient(Parameters parameters) {
    RaftProperties properties = new RaftProperties();
    org.apache.ratis.client.RaftClientConfigKeys.Rpc.setRequestTimeout(
        properties, TimeDuration.valueOf(CALL.toMillis(), TimeUnit.MILLISECONDS));
    return RaftClient.newBuilder()
        .setRaftGroup(Peers.group(Peers.parse(peers)))
        .setProperties(properties)
        .setParameters(parameters)
        .setRetryPolicy(RetryPolicies.noRetry())
        .build();
  }

  private static Message digestQuery() {
    return Message.valueOf(
        ByteString.copyFrom(
            Query.newBuilder()
                .setGetStateDigest(GetStateDigest.getDefaultInstance())
                .build()
                .toByteArray()));
  }

  @Test
  void theClientPortTakesTlsClientsThatTrustTheCaAndNothingElse() throws Exception {
    // A client with no certificate of its own, trusting the CA: served.
    try (RaftClient trusting = raftClient(TlsFiles.raftClientParameters(ca()))) {
      assertThat(
              trusting.io().sendStaleRead(digestQuery(), 0, RaftPeerId.valueOf("n1")).isSuccess())
          .isTrue();
    }
    // Plaintext: refused.
    try (RaftClient plain = raftClient(new Parameters())) {
      assertThatThrownBy(() -> plain.io().sendStaleRead(digestQuery(), 0, RaftPeerId.valueOf("n1")))
          .isInstanceOf(IOException.class);
    }
    // Trusting another CA: the client refuses the servers.
    try (RaftClient misled =
        raftClient(
            TlsFiles.raftClientParameters(strangerCerts.resolve(CertificateAuthority.CERT_FILE)))) {
      assertThatThrownBy(
              () -> misled.io().sendStaleRead(digestQuery(), 0, RaftPeerId.valueOf("n1")))
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  void theHttpEndpointIsHttpsWithTheMembersCertificateAndReportsItsExpiry() throws Exception {
    String endpoint = "127.0.0.1:" + httpPorts[0];
    HttpClient plain = HttpClient.newBuilder().connectTimeout(CALL).build();
    assertThatThrownBy(
            () ->
                plain.send(
                    HttpRequest.newBuilder(URI.create("http://" + endpoint + "/status"))
                        .timeout(CALL)
                        .build(),
                    HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(IOException.class);

    HttpClient https =
        HttpClient.newBuilder().connectTimeout(CALL).sslContext(Pem.clientContext(ca())).build();
    HttpResponse<String> metrics =
        https.send(
            HttpRequest.newBuilder(URI.create("https://" + endpoint + "/metrics"))
                .timeout(CALL)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    long expiry = Pem.notAfter(certs.resolve("n1.crt")).getEpochSecond();
    assertThat(metrics.body())
        .contains("roost_tls_certificate_expiration_timestamp_seconds " + (double) expiry);
    assertThat(status(0).orElseThrow().getTlsExpiresMs()).isEqualTo(expiry * 1000);
  }

  @Test
  @Order(Integer.MAX_VALUE)
  void aMemberTakesANewCertificateByARestartWhileTheOthersServe() throws Exception {
    CertificateAuthority ca = CertificateAuthority.load(certs);
    Path renewed = dir.resolve("renewed");
    ca.issue("n3", List.of("127.0.0.1"), Duration.ofDays(20)).save(renewed, "n3");
    ServerProcess old = started.get(2);
    assertThat(old.terminate()).isEqualTo(143);

    start(2, renewed.resolve("n3"));

    await().atMost(STARTUP).pollInterval(Duration.ofMillis(200)).until(TlsIT::allReady);
    String n3Metrics = metrics(httpPorts[2]);
    assertThat(n3Metrics)
        .contains(
            "roost_tls_certificate_expiration_timestamp_seconds "
                + (double) Pem.notAfter(renewed.resolve("n3.crt")).getEpochSecond());
    assertThat(Files.readString(started.get(started.size() - 1).logFile()))
        .contains("TLS on every port, mutual TLS between members");
  }

  private static String metrics(int httpPort) throws Exception {
    HttpClient https =
        HttpClient.newBuilder().connectTimeout(CALL).sslContext(Pem.clientContext(ca())).build();
    return https
        .send(
            HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + httpPort + "/metrics"))
                .timeout(CALL)
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}

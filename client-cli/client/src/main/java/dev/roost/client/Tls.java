package dev.roost.client;

import dev.roost.api.Pem;
import dev.roost.proto.StatusCode;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.netty.GrpcSslContexts;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslContext;

/**
 * How a client reaches Roost servers: TLS trusting a cluster's CA, as every Roost cluster runs by
 * default, or plaintext, for servers run with {@code --insecure}. With TLS the client checks that
 * each server's certificate is signed by the CA and names the host it connected to (a SAN), on the
 * client ports and on the HTTP endpoints alike.
 */
public final class Tls {
  /** No TLS: only for servers started with {@code --insecure}. */
  public static final Tls PLAINTEXT = new Tls(null, null, null);

  private final Path ca;
  private final SslContext grpc;
  private final SSLContext https;

  private Tls(Path ca, SslContext grpc, SSLContext https) {
    this.ca = ca;
    this.grpc = grpc;
    this.https = https;
  }

  /**
   * TLS trusting the CA certificate(s) in {@code caFile} (PEM), read now.
   *
   * @throws RoostException INVALID_ARGUMENT naming the file, if it is missing or holds no
   *     certificate
   */
  public static Tls trusting(Path caFile) {
    try {
      SSLContext https = Pem.clientContext(caFile);
      SslContext grpc = GrpcSslContexts.forClient().trustManager(caFile.toFile()).build();
      return new Tls(caFile, grpc, https);
    } catch (IllegalArgumentException | SSLException e) {
      throw new RoostException(StatusCode.INVALID_ARGUMENT, e.getMessage(), false);
    }
  }

  /** TLS trusting {@code caFile} when present, else plaintext. */
  public static Tls of(Optional<Path> caFile) {
    return caFile.map(Tls::trusting).orElse(PLAINTEXT);
  }

  /** The CA file trusted, empty for plaintext. */
  public Optional<Path> ca() {
    return Optional.ofNullable(ca);
  }

  /**
   * Parameters for a Ratis client ({@code RaftClient.Builder.setParameters}) with the same trust,
   * for programs that build their own Ratis clients of a Roost cluster.
   */
  public Parameters raftParameters() {
    Parameters parameters = new Parameters();
    if (ca != null) {
      GrpcConfigKeys.TLS.setConf(parameters, new GrpcTlsConfig(null, null, ca.toFile(), false));
    }
    return parameters;
  }

  /** A gRPC channel to a client port. */
  ManagedChannel channel(String target) {
    NettyChannelBuilder b = NettyChannelBuilder.forTarget(target);
    return (grpc == null ? b.usePlaintext() : b.sslContext(grpc)).build();
  }

  /**
   * The URL of {@code path} on a member's HTTP endpoint {@code hostPort}: {@code https://} with
   * TLS, else {@code http://}.
   */
  public String url(String hostPort, String path) {
    return (https == null ? "http://" : "https://") + hostPort + path;
  }

  /** An HTTP client builder with the same trust, for members' HTTP endpoints. */
  public HttpClient.Builder http() {
    HttpClient.Builder b = HttpClient.newBuilder();
    return https == null ? b : b.sslContext(https);
  }

  @Override
  public String toString() {
    return ca == null ? "plaintext" : "TLS trusting " + ca;
  }
}

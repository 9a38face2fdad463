package dev.roost.server;

import dev.roost.api.Pem;
import java.io.File;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLException;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.netty.GrpcSslContexts;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslContext;

/**
 * A member's TLS material, PEM files read when the server starts (certificates are rotated by a
 * rolling restart): the cluster's CA, and this member's certificate and private key, which serves
 * as server certificate on every port and as client certificate towards the other members.
 *
 * <p>The peer port takes only connections that present a certificate signed by the CA (mutual TLS),
 * so only members speak Raft. The client port and the HTTP endpoint take any TLS client; clients
 * verify the member's certificate against the CA and its host name.
 *
 * @param ca the cluster CA's certificate(s)
 * @param cert this member's certificate
 * @param key this member's private key (PKCS#8)
 */
public record TlsFiles(Path ca, Path cert, Path key) {

  /**
   * Checks that the files are usable before anything binds: readable PEM, the key belonging to the
   * certificate, the certificate signed by the CA and not expired.
   *
   * @throws ConfigException naming the setting and the problem
   */
  void check(Instant now) throws ConfigException {
    List<X509Certificate> cas;
    X509Certificate own;
    try {
      cas = Pem.certificates(ca);
      Pem.keyStore(cert, key);
      own = Pem.certificates(cert).get(0);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("--tls-*: " + e.getMessage());
    }
    if (!cas.stream().anyMatch(c -> signedBy(own, c))) {
      throw new ConfigException(
          "--tls-cert: " + cert + " is not signed by the CA in --tls-ca " + ca);
    }
    if (own.getNotAfter().toInstant().isBefore(now)) {
      throw new ConfigException(
          "--tls-cert: " + cert + " expired on " + own.getNotAfter().toInstant());
    }
  }

  private static boolean signedBy(X509Certificate cert, X509Certificate ca) {
    try {
      cert.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** When this member's certificate expires. */
  Instant notAfter() {
    return Pem.notAfter(cert);
  }

  /** Puts the peer port's mutual TLS and the client port's TLS into a Raft server's parameters. */
  void configure(Parameters parameters) {
    GrpcConfigKeys.Server.setTlsConf(parameters, grpc(true));
    GrpcConfigKeys.Client.setTlsConf(parameters, grpc(false));
  }

  private GrpcTlsConfig grpc(boolean mutual) {
    return new GrpcTlsConfig(file(key), file(cert), file(ca), mutual);
  }

  private static File file(Path p) {
    return p.toFile();
  }

  /**
   * The parameters of a Ratis client of a cluster: TLS trusting the CA in {@code ca}, or plaintext
   * when it is null.
   */
  static Parameters raftClientParameters(Path ca) {
    Parameters parameters = new Parameters();
    if (ca != null) {
      GrpcConfigKeys.TLS.setConf(parameters, new GrpcTlsConfig(null, null, file(ca), false));
    }
    return parameters;
  }

  /** A channel to another member's peer port, presenting this member's certificate. */
  ManagedChannel peerChannel(String target) {
    try {
      SslContext ssl =
          GrpcSslContexts.forClient()
              .trustManager(file(ca))
              .keyManager(file(cert), file(key))
              .build();
      return NettyChannelBuilder.forTarget(target).sslContext(ssl).build();
    } catch (SSLException e) {
      throw new IllegalStateException("TLS files became unusable: " + e.getMessage(), e);
    }
  }

  /** A channel to {@code target} with TLS as {@code tls} says, plaintext when it is null. */
  static ManagedChannel peerChannel(TlsFiles tls, String target) {
    return tls == null
        ? NettyChannelBuilder.forTarget(target).usePlaintext().build()
        : tls.peerChannel(target);
  }
}

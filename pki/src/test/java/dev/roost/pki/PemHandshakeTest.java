package dev.roost.pki;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.api.Pem;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real TLS handshakes on loopback between contexts {@link Pem} builds from the files {@link
 * CertificateAuthority} writes: the files work together, and host names and trust are checked.
 */
class PemHandshakeTest {
  private static final int TIMEOUT_MS = 10_000;
  private static final byte ANSWER = 42;

  @TempDir Path dir;
  private InetAddress loopback;

  @BeforeEach
  void cluster() throws Exception {
    loopback = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
    CertificateAuthority ca = CertificateAuthority.create("Test CA", Duration.ofDays(2));
    ca.save(dir);
    ca.issue("n1", List.of("127.0.0.1", "localhost"), Duration.ofDays(1)).save(dir, "n1");
    ca.issue("elsewhere", List.of("10.0.0.1", "n9.roost"), Duration.ofDays(1))
        .save(dir, "elsewhere");
    ca.issue("client", List.of("client.roost"), Duration.ofDays(1)).save(dir, "client");
    Path other = dir.resolve("other");
    CertificateAuthority.create("Other CA", Duration.ofDays(2)).save(other);
  }

  @Test
  void aClientTrustingTheCaConnectsToANodeWhoseNamesHoldTheAddress() throws Exception {
    Outcome outcome = handshake(server("n1"), false, Pem.clientContext(dir.resolve("ca.crt")));

    assertThat(outcome.client()).isNull();
    assertThat(outcome.server()).isNull();
  }

  @Test
  void aClientTrustingAnotherCaRefusesTheNode() throws Exception {
    Outcome outcome =
        handshake(server("n1"), false, Pem.clientContext(dir.resolve("other/ca.crt")));

    assertThat(outcome.client()).isInstanceOf(SSLHandshakeException.class);
  }

  @Test
  void aClientRefusesANodeWhoseNamesDoNotHoldTheAddress() throws Exception {
    Outcome outcome =
        handshake(server("elsewhere"), false, Pem.clientContext(dir.resolve("ca.crt")));

    assertThat(outcome.client())
        .isInstanceOf(SSLHandshakeException.class)
        .hasMessageContaining("127.0.0.1");
  }

  @Test
  void mutualTlsAcceptsAClientCertificateOfTheCaAndRefusesNone() throws Exception {
    Path ca = dir.resolve("ca.crt");
    SSLContext node = Pem.serverContext(dir.resolve("n1.crt"), dir.resolve("n1.key"), ca);
    SSLContext client = Pem.serverContext(dir.resolve("client.crt"), dir.resolve("client.key"), ca);

    Outcome mutual = handshake(node, true, client);
    assertThat(mutual.client()).isNull();
    assertThat(mutual.server()).isNull();

    // Under TLS 1.3 the client may learn of the refusal only when it reads; the node knows at once.
    Outcome anonymous = handshake(node, true, Pem.clientContext(ca));
    assertThat(anonymous.server()).isInstanceOf(SSLHandshakeException.class);
    assertThat(anonymous.client()).isNotNull();
  }

  private SSLContext server(String name) {
    return Pem.serverContext(dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
  }

  /** What went wrong on each side of one connection, if anything. */
  private record Outcome(Throwable server, Throwable client) {}

  /**
   * One connection from {@code client} to a server socket of {@code server} on 127.0.0.1, with host
   * name checking on: the server sends one byte after the handshake, the client reads it.
   */
  private Outcome handshake(SSLContext server, boolean needClientAuth, SSLContext client)
      throws Exception {
    ExecutorService acceptor = Executors.newSingleThreadExecutor();
    try (SSLServerSocket listener =
        (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 1, loopback)) {
      listener.setNeedClientAuth(needClientAuth);
      listener.setSoTimeout(TIMEOUT_MS);
      Future<?> served =
          acceptor.submit(
              () -> {
                try (SSLSocket socket = (SSLSocket) listener.accept()) {
                  socket.setSoTimeout(TIMEOUT_MS);
                  socket.startHandshake();
                  socket.getOutputStream().write(ANSWER);
                  socket.getOutputStream().flush();
                }
                return null;
              });
      Throwable clientFailure = null;
      try (Socket plain = new Socket()) {
        plain.connect(new InetSocketAddress(loopback, listener.getLocalPort()), TIMEOUT_MS);
        plain.setSoTimeout(TIMEOUT_MS);
        try (SSLSocket socket =
            (SSLSocket)
                client
                    .getSocketFactory()
                    .createSocket(plain, "127.0.0.1", listener.getLocalPort(), true)) {
          SSLParameters parameters = socket.getSSLParameters();
          parameters.setEndpointIdentificationAlgorithm("HTTPS");
          socket.setSSLParameters(parameters);
          socket.startHandshake();
          assertThat(socket.getInputStream().read()).isEqualTo(ANSWER);
        }
      } catch (IOException e) {
        clientFailure = e;
      }
      Throwable serverFailure = null;
      try {
        served.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        serverFailure = e.getCause();
      }
      return new Outcome(serverFailure, clientFailure);
    } finally {
      acceptor.shutdownNow();
      assertThat(acceptor.awaitTermination(TIMEOUT_MS, TimeUnit.MILLISECONDS)).isTrue();
    }
  }
}

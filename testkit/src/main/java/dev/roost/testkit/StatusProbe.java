package dev.roost.testkit;

import dev.roost.api.ControlJson;
import dev.roost.api.Pem;
import dev.roost.proto.MemberStatus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The one {@code /status} fetch of every process launcher (the local cluster, the chaos suite's
 * clusters, the integration tests' server processes, the failover bench): {@code GET
 * https://HOST:PORT/status} (or {@code http://} for insecure members) read as a typed {@link
 * MemberStatus}.
 *
 * <p>A member that does not answer within the timeout, answers anything but 200 (starting, not a
 * member) or answers something that is not a status is reported as empty: callers poll, and for
 * them every one of those means "not now". Thread-safe.
 */
public final class StatusProbe {
  /** The timeout the launchers use: a live member answers in milliseconds. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);

  private static final StatusProbe DEFAULT = new StatusProbe(DEFAULT_TIMEOUT);

  private final Duration timeout;
  private final HttpClient http;
  private final String scheme;

  /**
   * A probe of plain HTTP endpoints (members run with {@code --insecure}).
   *
   * @param timeout how long connecting and then the whole request may each take
   */
  public StatusProbe(Duration timeout) {
    this(timeout, null);
  }

  /**
   * @param timeout how long connecting and then the whole request may each take
   * @param ca the cluster CA's certificate, to probe HTTPS endpoints; null for plain HTTP
   */
  public StatusProbe(Duration timeout, Path ca) {
    this.timeout = timeout;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(timeout);
    this.http = (ca == null ? b : b.sslContext(Pem.clientContext(ca))).build();
    this.scheme = ca == null ? "http://" : "https://";
  }

  /** The probe of plain HTTP endpoints with {@link #DEFAULT_TIMEOUT}. */
  public static StatusProbe standard() {
    return DEFAULT;
  }

  /** The probe with {@link #DEFAULT_TIMEOUT} of HTTPS endpoints trusting {@code ca}, if given. */
  public static StatusProbe trusting(Optional<Path> ca) {
    return ca.map(file -> new StatusProbe(DEFAULT_TIMEOUT, file)).orElse(DEFAULT);
  }

  /**
   * The status of the member whose HTTP endpoint is {@code httpAddress} ({@code host:port}), or
   * empty when it gives none now. Interrupted, it returns empty with the thread's interrupt flag
   * set.
   */
  public Optional<MemberStatus> fetch(String httpAddress) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(scheme + httpAddress + "/status"))
                  .timeout(timeout)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return Optional.empty();
      }
      return Optional.of(ControlJson.parse(r.body(), MemberStatus.getDefaultInstance()));
    } catch (IOException e) {
      // Not answering, and answering something that is not a status (InvalidProtocolBuffer-
      // Exception is an IOException), are the same "not now" to a poller.
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }
}

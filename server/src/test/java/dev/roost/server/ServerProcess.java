package dev.roost.server;

import dev.roost.api.GatewayMethod;
import dev.roost.proto.Command;
import dev.roost.proto.GatewayReply;
import dev.roost.proto.MemberStatus;
import dev.roost.proto.OpenSession;
import dev.roost.proto.Reply;
import dev.roost.testkit.ServerJvm;
import dev.roost.testkit.StatusProbe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.thirdparty.io.grpc.CallOptions;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls;

/**
 * One roost-server started as its own JVM from the shaded jar, the way an operator starts it, for
 * tests that need real processes. Its stdout and stderr go to files next to its data directory.
 * Close it (or kill it) in the test's cleanup: a test ends only processes it started.
 *
 * <p>The jar comes from the system property {@code roost.server.jar}, which the failsafe
 * configuration sets after {@code package}.
 */
final class ServerProcess implements AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final StatusProbe STATUS = new StatusProbe(Duration.ofSeconds(2));

  private final String id;
  private final Process process;
  private final Path dataDir;
  private final Path stderr;
  private final int httpPort;

  private ServerProcess(String id, Process process, Path dataDir, Path stderr, int httpPort) {
    this.id = id;
    this.process = process;
    this.dataDir = dataDir;
    this.stderr = stderr;
    this.httpPort = httpPort;
  }

  /** The shaded server jar this build made. */
  static Path jar() {
    String jar = System.getProperty("roost.server.jar");
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException(
          "system property roost.server.jar must name the shaded jar (run through mvn verify),"
              + " got "
              + jar);
    }
    return Path.of(jar);
  }

  /**
   * Starts {@code java -jar roost-server.jar --id ID --peers PEERS --data-dir DIR --http
   * 127.0.0.1:PORT EXTRA...}, with stdout and stderr in {@code DIR.out} and {@code DIR.err}; with
   * {@code --insecure} unless {@code EXTRA} gives TLS files ({@code --tls-...}): the tests that
   * start servers this way test what lies behind the transport, {@link TlsIT} the transport.
   */
  static ServerProcess start(
      String id, String peers, Path dataDir, int httpPort, String... extraArgs) {
    return start(List.of(), id, peers, dataDir, httpPort, extraArgs);
  }

  /** As {@link #start(String, String, Path, int, String...)}, with more JVM options. */
  static ServerProcess start(
      List<String> jvmOptions,
      String id,
      String peers,
      Path dataDir,
      int httpPort,
      String... extraArgs) {
    List<String> args = new ArrayList<>();
    args.addAll(
        List.of(
            "--id",
            id,
            "--peers",
            peers,
            "--data-dir",
            dataDir.toString(),
            "--http",
            "127.0.0.1:" + httpPort));
    args.addAll(List.of(extraArgs));
    if (args.stream().noneMatch(a -> a.startsWith("--tls-"))) {
      args.add("--insecure");
    }
    return launch(jvmOptions, id, dataDir, httpPort, args);
  }

  /**
   * Starts {@code java -jar roost-server.jar ARGS...} as is, for a start that is meant to fail;
   * stdout and stderr go to {@code DIR.out} and {@code DIR.err}.
   */
  static ServerProcess startWithArgs(String id, Path dataDir, String... args) {
    return launch(List.of(), id, dataDir, -1, List.of(args));
  }

  private static ServerProcess launch(
      List<String> jvmOptions, String id, Path dataDir, int httpPort, List<String> args) {
    List<String> options = new ArrayList<>(List.of("-Xmx256m"));
    options.addAll(jvmOptions);
    List<String> command = ServerJvm.command(jar(), options, args);
    Path stdout = dataDir.resolveSibling(dataDir.getFileName() + ".out");
    Path stderr = dataDir.resolveSibling(dataDir.getFileName() + ".err");
    try {
      return new ServerProcess(
          id, ServerJvm.start(command, stdout, stderr, Map.of()), dataDir, stderr, httpPort);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
  }

  /** The node's own log file, at its default place in the data directory. */
  Path logFile() {
    return dataDir.resolve("roost-" + id + ".log");
  }

  /** Everything the process wrote to stderr so far. */
  String stderr() throws IOException {
    return Files.readString(stderr);
  }

  /** GET {@code path} on the HTTP endpoint. */
  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
            .timeout(Duration.ofSeconds(2))
            .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** Whether {@code /ready} answers 200; false while the endpoint does not answer at all. */
  boolean isReady() {
    try {
      return get("/ready").statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The {@code /status} of this member; fails when it gives none. */
  MemberStatus status() throws IOException {
    return STATUS
        .fetch("127.0.0.1:" + httpPort)
        .orElseThrow(() -> new IOException(id + " gave no /status"));
  }

  /** Sends SIGTERM and waits for the exit status. */
  int terminate() throws InterruptedException {
    process.destroy();
    return waitFor();
  }

  /** Waits up to 30 s for the process to exit and returns its status. */
  int waitFor() throws InterruptedException {
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException(id + " did not exit within 30 s");
    }
    return process.exitValue();
  }

  /** Kills the process (SIGKILL) if it still runs, and waits for it. */
  @Override
  public void close() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** Opens a session through the write gateway of the leader at {@code clientPort}. */
  static long openSession(int clientPort) throws Exception {
    GatewayReply opened =
        gatewaySubmit(
            clientPort,
            Command.newBuilder()
                .setOpenSession(OpenSession.getDefaultInstance())
                .build()
                .toByteArray());
    if (opened.getOutcome() != GatewayReply.Outcome.ANSWERED) {
      throw new AssertionError("no session opened: " + opened);
    }
    return Reply.parseFrom(opened.getReply()).getSession().getId();
  }

  /** One call to the write gateway on a client port, its answer decoded. */
  static GatewayReply gatewaySubmit(int clientPort, byte[] command) throws Exception {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", clientPort).usePlaintext().build();
    try {
      byte[] answer =
          ClientCalls.blockingUnaryCall(
              channel,
              GatewayMethod.SUBMIT,
              CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
              command);
      return GatewayReply.parseFrom(answer);
    } finally {
      channel.shutdownNow();
    }
  }
}

package dev.roost.server;

import dev.roost.statemachine.RoostStateMachine;
import java.io.IOException;
import java.util.function.IntConsumer;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.server.RaftServer;

/**
 * What a Roost server adds to Ratis' gRPC servers: the {@link WriteGateway} next to Ratis' client
 * service on the client port, {@link PeerClocks} next to its server service on the peer port, the
 * {@link RatisAdminRefusal} in front of its admin service, and TLS on both ports.
 */
public final class RoostGrpcServices {
  private RoostGrpcServices() {}

  /**
   * Builds the Raft server of {@code builder} (everything but its parameters already set) with
   * Roost's services installed, its clock served to peers but theirs not read; in-process test
   * clusters use it to run what roost-server runs.
   */
  public static RaftServer build(RaftServer.Builder builder, RoostStateMachine stateMachine)
      throws IOException {
    return build(
        builder,
        stateMachine,
        writes -> {},
        new PeerClocks("", System::currentTimeMillis, null),
        null);
  }

  /**
   * Builds the Raft server of {@code builder} (everything but its parameters already set) with
   * Roost's services installed.
   *
   * @param gatewayEntries told the number of writes of each entry the gateway sends
   * @param clocks serves this member's clock to its peers
   * @param tls the TLS of the peer and client ports, or null for plaintext
   */
  static RaftServer build(
      RaftServer.Builder builder,
      RoostStateMachine stateMachine,
      IntConsumer gatewayEntries,
      PeerClocks clocks,
      TlsFiles tls)
      throws IOException {
    WriteGateway gateway = new WriteGateway(stateMachine, gatewayEntries);
    Parameters parameters = new Parameters();
    if (tls != null) {
      tls.configure(parameters);
    }
    GrpcConfigKeys.Server.setServicesCustomizer(
        parameters,
        (grpc, types) ->
            clocks.customize(
                gateway.customize(RatisAdminRefusal.INSTANCE.customize(grpc, types), types),
                types));
    RaftServer server = builder.setParameters(parameters).build();
    gateway.attach(server);
    return server;
  }
}

package dev.roost.server;

import dev.roost.statemachine.RoostStateMachine;
import java.io.IOException;
import java.util.function.IntConsumer;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.server.RaftServer;

/**
 * What a Roost server adds to Ratis' gRPC server on the Raft port: the {@link WriteGateway} next to
 * Ratis' client service, and the {@link RatisAdminRefusal} in front of its admin service.
 */
public final class RoostGrpcServices {
  private RoostGrpcServices() {}

  /**
   * Builds the Raft server of {@code builder} (everything but its parameters already set) with
   * Roost's services installed; in-process test clusters use it to run what roost-server runs.
   */
  public static RaftServer build(RaftServer.Builder builder, RoostStateMachine stateMachine)
      throws IOException {
    return build(builder, stateMachine, writes -> {});
  }

  /** As {@link #build(RaftServer.Builder, RoostStateMachine)}, counting the gateway's entries. */
  static RaftServer build(
      RaftServer.Builder builder, RoostStateMachine stateMachine, IntConsumer gatewayEntries)
      throws IOException {
    WriteGateway gateway = new WriteGateway(stateMachine, gatewayEntries);
    Parameters parameters = new Parameters();
    GrpcConfigKeys.Server.setServicesCustomizer(
        parameters,
        (grpc, types) ->
            gateway.customize(RatisAdminRefusal.INSTANCE.customize(grpc, types), types));
    RaftServer server = builder.setParameters(parameters).build();
    gateway.attach(server);
    return server;
  }
}

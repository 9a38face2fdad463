package dev.roost.server;

import java.util.EnumSet;
import org.apache.ratis.grpc.server.GrpcServices;
import org.apache.ratis.proto.grpc.AdminProtocolServiceGrpc;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.ServerCall;
import org.apache.ratis.thirdparty.io.grpc.ServerCallHandler;
import org.apache.ratis.thirdparty.io.grpc.ServerInterceptor;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyServerBuilder;

/**
 * Refuses every call to Ratis' admin RPC service (set configuration, transfer leadership,
 * snapshots, group management) with {@code PERMISSION_DENIED}: that service has no authentication
 * hook, so anyone who can reach the Raft port could otherwise change the membership. Roost performs
 * those operations in-process behind the HTTP endpoint's secret ({@link AdminEndpoint}, {@link
 * ClusterAdmin}); the service stays on the Raft port, refused, rather than on a port of its own
 * that a local user could still call.
 */
final class RatisAdminRefusal implements ServerInterceptor, GrpcServices.Customizer {
  private static final String REASON =
      "Ratis admin RPCs are disabled on Roost servers; use the HTTP endpoint's /admin/ paths";

  static final RatisAdminRefusal INSTANCE = new RatisAdminRefusal();

  private RatisAdminRefusal() {}

  @Override
  public NettyServerBuilder customize(
      NettyServerBuilder builder, EnumSet<GrpcServices.Type> types) {
    return types.contains(GrpcServices.Type.ADMIN) ? builder.intercept(this) : builder;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    if (!AdminProtocolServiceGrpc.SERVICE_NAME.equals(
        call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    call.close(Status.PERMISSION_DENIED.withDescription(REASON), new Metadata());
    return new ServerCall.Listener<>() {};
  }
}

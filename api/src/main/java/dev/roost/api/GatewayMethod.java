package dev.roost.api;

import org.apache.ratis.thirdparty.io.grpc.MethodDescriptor;

/**
 * The write gateway's one RPC, {@code roost.v1.WriteGateway/Submit}, served by every roost-server
 * on its Raft port next to Ratis' own services (see roost.proto, "The write gateway").
 *
 * <p>Request: the bytes of one {@code Command}, a single write or one client's {@code
 * CommandBatch}. Answer: the bytes of one {@code GatewayReply}: the reply that command alone would
 * have got, or why it got none, and what a client needs to follow the leader and the membership.
 * The leader combines the commands that arrive while its previous entry is being committed into one
 * log entry.
 *
 * <p>Defined by hand, with byte-array marshallers ({@link GrpcBytes}).
 */
public final class GatewayMethod {
  /** The gRPC service name. */
  public static final String SERVICE = "roost.v1.WriteGateway";

  /** {@code Submit}: Command bytes in, GatewayReply bytes out. */
  public static final MethodDescriptor<byte[], byte[]> SUBMIT =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Submit"))
          .setRequestMarshaller(GrpcBytes.MARSHALLER)
          .setResponseMarshaller(GrpcBytes.MARSHALLER)
          .build();

  private GatewayMethod() {}
}

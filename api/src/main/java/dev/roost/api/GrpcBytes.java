package dev.roost.api;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.apache.ratis.thirdparty.io.grpc.MethodDescriptor;

/**
 * A gRPC marshaller that passes messages as byte arrays, for Roost's own RPCs on the Raft port:
 * Ratis serves gRPC through its shaded copy of grpc-java, which generated stubs would not match, so
 * the methods are defined by hand and their callers parse the protobuf themselves.
 */
public enum GrpcBytes implements MethodDescriptor.Marshaller<byte[]> {
  MARSHALLER;

  @Override
  public InputStream stream(byte[] value) {
    return new ByteArrayInputStream(value);
  }

  @Override
  public byte[] parse(InputStream stream) {
    try {
      return stream.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

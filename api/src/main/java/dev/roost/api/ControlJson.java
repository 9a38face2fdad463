package dev.roost.api;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;

/**
 * The JSON form of the control plane's messages ({@code MemberStatus}, the admin requests, {@code
 * AdminReply}, {@code ErrorReply}): protobuf's JSON mapping, the one way servers write and clients
 * read them, so that nothing builds or parses control-plane JSON by hand.
 *
 * <p>Printed JSON is one line with lowerCamelCase field names and enums by name, and carries every
 * field, also those at their default ({@code "leader":""}, {@code "members":[]}), so that a reader
 * sees the whole shape; fields declared {@code optional} appear only when set. 64-bit integers are
 * JSON strings ({@code "term":"4"}), as the proto3 JSON mapping prescribes. Parsing accepts numbers
 * or strings for them, enum names or numbers, and ignores fields and enum values it does not know,
 * so a client keeps reading a newer server that added some.
 */
public final class ControlJson {
  /** The {@code Content-Type} of a control-plane answer. */
  public static final String CONTENT_TYPE = "application/json";

  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

  private ControlJson() {}

  /** {@code message} as one line of JSON, without a line break. */
  public static String print(MessageOrBuilder message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      // Only Any fields with unregistered types fail to print; the control plane has none.
      throw new IllegalStateException("cannot print " + message.getDescriptorForType(), e);
    }
  }

  /**
   * Parses {@code json} as a message of {@code prototype}'s type.
   *
   * @throws InvalidProtocolBufferException if it is not JSON of that message: the caller reports
   *     the answer as malformed
   */
  public static <T extends Message> T parse(String json, T prototype)
      throws InvalidProtocolBufferException {
    Message.Builder builder = prototype.newBuilderForType();
    PARSER.merge(json, builder);
    @SuppressWarnings("unchecked") // a builder of T's type builds a T
    T built = (T) builder.build();
    return built;
  }
}

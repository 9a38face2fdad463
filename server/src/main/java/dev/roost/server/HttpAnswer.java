package dev.roost.server;

import com.google.protobuf.MessageOrBuilder;
import dev.roost.api.ControlJson;
import dev.roost.api.HttpStatus;
import dev.roost.proto.ErrorReply;
import dev.roost.proto.StatusCode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/** One complete answer of the HTTP endpoint: status, content type and body. */
record HttpAnswer(int status, String contentType, byte[] body) {
  /** {@code body} and a newline as UTF-8 text. */
  static HttpAnswer text(int status, String body) {
    return new HttpAnswer(
        status, "text/plain; charset=utf-8", (body + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /** {@code message} as proto-JSON ({@link ControlJson}). */
  static HttpAnswer json(int status, MessageOrBuilder message) {
    return new HttpAnswer(
        status,
        ControlJson.CONTENT_TYPE,
        (ControlJson.print(message) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /** An {@link ErrorReply} with {@code code}, sent with the code's HTTP status. */
  static HttpAnswer error(StatusCode code, String message) {
    return error(HttpStatus.of(code), code, message);
  }

  /** An {@link ErrorReply} with {@code code}, sent with {@code status}. */
  static HttpAnswer error(int status, StatusCode code, String message) {
    return json(status, ErrorReply.newBuilder().setCode(code).setMessage(message));
  }

  /**
   * Writes this answer as the whole of {@code response} and completes {@code callback}. Jetty sets
   * the content length from the one last write and sends no body to a HEAD request.
   */
  void send(Response response, Callback callback) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
    response.write(true, ByteBuffer.wrap(body), callback);
  }
}

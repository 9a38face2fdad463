package dev.roost.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.api.Peers;
import java.io.IOException;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.retry.RetryPolicies;
import org.junit.jupiter.api.Test;

class RatisTransportTest {
  @Test
  void findsTheReadRefusalRatisEndedABlockingCallWith() {
    ReadException refused = new ReadException("n1 is installing a snapshot");
    RaftClientRequest request =
        RaftClientRequest.newBuilder()
            .setClientId(ClientId.randomId())
            .setServerId(RaftPeerId.valueOf("n1"))
            .setGroupId(Peers.GROUP_ID)
            .setCallId(1)
            .setMessage(Message.valueOf("q"))
            .setType(RaftClientRequest.readRequestType())
            .build();

    assertThat(RatisTransport.readRefusal(refused)).isSameAs(refused);
    // After earlier attempts failed otherwise, Ratis wraps the cause it gave up on.
    assertThat(
            RatisTransport.readRefusal(
                new RaftRetryFailureException(request, 3, RetryPolicies.noRetry(), refused)))
        .isSameAs(refused);
    assertThat(
            RatisTransport.readRefusal(
                new RaftRetryFailureException(
                    request, 3, RetryPolicies.noRetry(), new TimeoutIOException("timed out"))))
        .isNull();
    assertThat(RatisTransport.readRefusal(new IOException("stream reset"))).isNull();
  }
}

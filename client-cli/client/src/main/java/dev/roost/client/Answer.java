package dev.roost.client;

import com.google.protobuf.ByteString;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * A server's answer to one request, whichever way it went (the write gateway or a Ratis request):
 * the member that answered and the bytes of Roost's {@code Reply}, which {@link RoostClient}
 * decodes.
 *
 * @param server the member that answered
 * @param reply the bytes of the {@code Reply}; null if the answer carried none, which for a write
 *     leaves its outcome unknown
 */
record Answer(RaftPeerId server, ByteString reply) {}

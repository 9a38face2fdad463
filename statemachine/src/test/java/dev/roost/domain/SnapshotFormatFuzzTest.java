package dev.roost.domain;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.roost.domain.SnapshotFormat.CorruptSnapshotException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * Hostile bytes as a snapshot file: each pass either accepts them or throws {@link
 * CorruptSnapshotException}, in memory proportional to their length; nothing else escapes.
 *
 * <p>The reader runs on every input, whatever the checksum pass says, so that the fuzzer reaches
 * its parsing with bytes whose checksum does not match. When the reader accepts, the checksum pass
 * must accept too, and the state written again must be the very same bytes (the encoding is
 * canonical, so a snapshot that loads is one that {@link SnapshotFormat#write} could have made).
 *
 * <p>{@code ./mvnw test} replays the inputs committed under {@code SnapshotFormatFuzzTestInputs/};
 * see docs/testing.md for a fuzzing run.
 */
class SnapshotFormatFuzzTest {
  @FuzzTest
  void anyBytesLoadOrAreCorrupt(byte[] input) throws IOException {
    boolean verified;
    try {
      verified = SnapshotFormat.verify(new ByteArrayInputStream(input)) == input.length;
    } catch (CorruptSnapshotException e) {
      verified = false;
    }
    RoostState state;
    try {
      state = SnapshotFormat.read(new ByteArrayInputStream(input), input.length);
    } catch (CorruptSnapshotException e) {
      return;
    }
    assertThat(verified).as("the checksum pass accepts what the reader loads").isTrue();
    ByteArrayOutputStream again = new ByteArrayOutputStream();
    SnapshotFormat.write(state, again);
    assertThat(again.toByteArray()).isEqualTo(input);
  }
}

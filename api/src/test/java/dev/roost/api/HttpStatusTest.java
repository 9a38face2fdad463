package dev.roost.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.proto.StatusCode;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class HttpStatusTest {
  @Test
  void everyCodeHasAStatusThatMapsBackToItOrToTheCodeSharingIt() {
    for (StatusCode code : StatusCode.values()) {
      if (code == StatusCode.UNRECOGNIZED) {
        continue;
      }
      StatusCode back = HttpStatus.code(HttpStatus.of(code));
      switch (code) {
        case ALREADY_EXISTS, ABORTED, SESSION_EXPIRED ->
            assertThat(back).as(code.name()).isEqualTo(StatusCode.FAILED_PRECONDITION);
        default -> assertThat(back).as(code.name()).isEqualTo(code);
      }
    }
  }

  @Test
  void answersWithoutAnErrorBodyAreRead() {
    assertThat(Arrays.asList(404, 405, 411, 413, 431, 500, 502, 418).stream().map(HttpStatus::code))
        .containsExactly(
            StatusCode.NOT_FOUND,
            StatusCode.INVALID_ARGUMENT,
            StatusCode.INVALID_ARGUMENT,
            StatusCode.INVALID_ARGUMENT,
            StatusCode.INVALID_ARGUMENT,
            StatusCode.INTERNAL,
            StatusCode.UNAVAILABLE,
            StatusCode.INTERNAL);
  }
}

package dev.roost.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.roost.proto.Command;
import dev.roost.proto.KvCompareAndSet;
import dev.roost.proto.Query;
import dev.roost.proto.StatusCode;
import org.junit.jupiter.api.Test;

class RequestsTest {

  @Test
  void buildsEachCommandInItsOneofCase() {
    assertThat(Requests.registerUser("alice", "Alice").getOpCase())
        .isEqualTo(Command.OpCase.REGISTER_USER);
    assertThat(Requests.follow("a", "b").getOpCase()).isEqualTo(Command.OpCase.FOLLOW);
    assertThat(Requests.unfollow("a", "b").getOpCase()).isEqualTo(Command.OpCase.UNFOLLOW);
    assertThat(Requests.post("a", "hi").getOpCase()).isEqualTo(Command.OpCase.CREATE_POST);
    assertThat(Requests.kvPut("k", new byte[] {1}).getOpCase()).isEqualTo(Command.OpCase.KV_PUT);
    assertThat(Requests.kvDelete("k").getOpCase()).isEqualTo(Command.OpCase.KV_DELETE);
  }

  @Test
  void commandsLeaveRequestIdAndTimestampToOthers() {
    Command command = Requests.post("alice", "hello").build();

    assertThat(command.hasRequestId()).isFalse();
    assertThat(command.getTimestampMs()).isZero();
    assertThat(command.getCreatePost().getAuthor()).isEqualTo("alice");
    assertThat(command.getCreatePost().getText()).isEqualTo("hello");
  }

  @Test
  void compareAndSetSetsTheRightExpectation() {
    KvCompareAndSet byValue =
        Requests.kvCompareAndSetValue("k", new byte[0], new byte[] {2}).getKvCompareAndSet();
    KvCompareAndSet byVersion =
        Requests.kvCompareAndSetVersion("k", 0, new byte[] {2}).getKvCompareAndSet();

    // An empty expected value is still an expectation on the value, not "unset".
    assertThat(byValue.getExpectCase()).isEqualTo(KvCompareAndSet.ExpectCase.EXPECTED_VALUE);
    assertThat(byVersion.getExpectCase()).isEqualTo(KvCompareAndSet.ExpectCase.EXPECTED_VERSION);
    assertThat(byVersion.getExpectedVersion()).isZero();
  }

  @Test
  void optionalArgumentsMayBeNull() {
    Query users = Requests.listUsers(null, 0, null);

    assertThat(users.getListUsers().getPrefix()).isEmpty();
    assertThat(users.getListUsers().getPage().getPageToken()).isEmpty();
    assertThat(Requests.registerUser("bob", null).getRegisterUser().getDisplayName()).isEmpty();
  }

  @Test
  void missingRequiredArgumentsAreInvalidAndNamed() {
    assertInvalid(() -> Requests.registerUser(null, "x"), "handle");
    assertInvalid(() -> Requests.follow("a", null), "followee");
    assertInvalid(() -> Requests.post(null, "hi"), "author");
    assertInvalid(() -> Requests.post("a", null), "text");
    assertInvalid(() -> Requests.kvPut("k", null), "value");
    assertInvalid(() -> Requests.kvCompareAndSetValue("k", null, new byte[0]), "expected");
    assertInvalid(() -> Requests.timeline(null, 10, ""), "handle");
    assertInvalid(() -> Requests.kvGet(null), "key");
  }

  @Test
  void negativeNumbersAreInvalid() {
    assertInvalid(() -> Requests.listPosts("a", -1, ""), "limit");
    assertInvalid(() -> Requests.kvCompareAndSetVersion("k", -1, new byte[0]), "expectedVersion");
  }

  private static void assertInvalid(Runnable build, String named) {
    RoostException e = catchThrowableOfType(RoostException.class, build::run);

    assertThat(e).as("expected INVALID_ARGUMENT naming %s", named).isNotNull();
    assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(e.outcomeUnknown()).isFalse();
    assertThat(e.getMessage()).contains(named);
  }
}

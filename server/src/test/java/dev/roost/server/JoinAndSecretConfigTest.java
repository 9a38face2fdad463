package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code --join} and {@code --admin-secret} settings of {@link ServerConfig}. */
class JoinAndSecretConfigTest {
  private static ServerConfig parse(Map<String, String> env, String... args) throws Exception {
    return ServerConfig.resolve(
        ServerConfig.flags(ServerConfig.commandLine().parseArgs(args)), env);
  }

  private static final String[] JOINING = {
    "--id",
    "n4",
    "--peers",
    "n4=127.0.0.1:7004/7204",
    "--data-dir",
    "/tmp/n4",
    "--http",
    "127.0.0.1:7104",
    "--insecure"
  };

  @Test
  void joinIsABareFlagOrABooleanFromTheEnvironment() throws Exception {
    assertThat(parse(Map.of(), JOINING).join()).isFalse();
    String[] withFlag = java.util.Arrays.copyOf(JOINING, JOINING.length + 1);
    withFlag[JOINING.length] = "--join";
    assertThat(parse(Map.of(), withFlag).join()).isTrue();
    assertThat(parse(Map.of("ROOST_JOIN", "true"), JOINING).join()).isTrue();
    assertThatThrownBy(() -> parse(Map.of("ROOST_JOIN", "yes"), JOINING))
        .hasMessageStartingWith("--join (from ROOST_JOIN): expected true or false");
  }

  @Test
  void adminSecretIsOptionalHiddenAndLongEnough() throws Exception {
    assertThat(parse(Map.of(), JOINING).adminSecret()).isNull();
    ServerConfig c = parse(Map.of("ROOST_ADMIN_SECRET", "an-admin-secret-123"), JOINING);
    assertThat(c.adminSecret().matches("an-admin-secret-123")).isTrue();
    assertThat(c.toString()).doesNotContain("an-admin-secret-123");
    assertThatThrownBy(() -> parse(Map.of("ROOST_ADMIN_SECRET", "short"), JOINING))
        .hasMessageStartingWith("--admin-secret (from ROOST_ADMIN_SECRET): too short");
  }
}

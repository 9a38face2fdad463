package dev.roost.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which certificate the CLI trusts when it is told nothing about the cluster but its peers: none,
 * so it refuses to run rather than guess; a bad --ca is an input error; a good one gets as far as
 * the network.
 */
class CliTrustTest {
  @TempDir Path home;

  private static final String NOWHERE = "n1=127.0.0.1:1";

  @Test
  void withoutACaAndWithoutALocalClusterTheCliRefusesToGuess() {
    CliRun r = CliRun.roost(home, "--peers", NOWHERE, "users");

    assertThat(r.exit()).isEqualTo(CliException.EXIT_INPUT);
    assertThat(r.err())
        .startsWith("error: INVALID_ARGUMENT: Roost servers use TLS: pass the cluster CA's")
        .contains("--ca FILE or ROOST_CA")
        .doesNotContain("\tat ");
  }

  @Test
  void aCaFileThatIsNoCertificateIsAnInputErrorNamingIt() throws Exception {
    Path missing = home.resolve("missing.crt");
    Path notPem = Files.writeString(home.resolve("not.crt"), "hello\n");

    CliRun absent = CliRun.roost(home, "--peers", NOWHERE, "--ca", missing.toString(), "users");
    CliRun garbage = CliRun.roost(home, "--peers", NOWHERE, "--ca", notPem.toString(), "users");

    assertThat(absent.exit()).isEqualTo(CliException.EXIT_INPUT);
    assertThat(absent.err())
        .startsWith("error: INVALID_ARGUMENT: --ca: ")
        .contains(missing.toString());
    assertThat(garbage.exit()).isEqualTo(CliException.EXIT_INPUT);
    assertThat(garbage.err())
        .startsWith("error: INVALID_ARGUMENT: --ca: ")
        .contains(notPem.toString());
  }

  @Test
  void aGoodCaOrInsecureGetsAsFarAsTheNetwork() {
    CliRun.ok(home, "certs", "init");
    String ca = home.resolve("certs").resolve("ca.crt").toString();

    CliRun trusting = CliRun.roost(home, "--peers", NOWHERE, "--ca", ca, "--timeout", "1", "users");
    CliRun plain = CliRun.roost(home, "--peers", NOWHERE, "--insecure", "--timeout", "1", "users");

    assertThat(trusting.exit()).as(trusting.err()).isEqualTo(CliException.EXIT_CLUSTER);
    assertThat(trusting.err()).startsWith("error: UNAVAILABLE");
    assertThat(plain.exit()).as(plain.err()).isEqualTo(CliException.EXIT_CLUSTER);
  }
}

package dev.roost.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.api.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code roost certs init|issue}, in process: the files, what is printed, and refusals. */
class CertsCommandTest {
  @TempDir Path home;

  @Test
  void initThenIssueWritesACaAndANodeCertificateItSigned() throws Exception {
    Path dir = home.resolve("certs");

    CliRun init = CliRun.ok(home, "certs", "init");
    assertThat(init.out())
        .contains("wrote " + dir.resolve("ca.crt"), "wrote " + dir.resolve("ca.key"))
        .contains("Keep ca.key secret");
    CliRun issue =
        CliRun.ok(
            home, "certs", "issue", "n1", "--san", "127.0.0.1", "--san", "n1.roost,localhost");

    assertThat(issue.out())
        .contains("wrote " + dir.resolve("n1.crt"), "wrote " + dir.resolve("n1.key"))
        .contains("subject alternative names: 127.0.0.1, n1.roost, localhost")
        .containsPattern("expires \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC");
    X509Certificate node = Pem.certificates(dir.resolve("n1.crt")).get(0);
    node.verify(Pem.certificates(dir.resolve("ca.crt")).get(0).getPublicKey());
    assertThat(node.getSubjectX500Principal().getName()).isEqualTo("CN=n1");
    assertThat(node.getSubjectAlternativeNames()).hasSize(3);
    assertThat(Files.getPosixFilePermissions(dir.resolve("n1.key")))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    Pem.serverContext(dir.resolve("n1.crt"), dir.resolve("n1.key"), dir.resolve("ca.crt"));
  }

  @Test
  void aSecondInitRefusesToOverwriteTheCa() throws Exception {
    Path dir = home.resolve("elsewhere");
    CliRun.ok(home, "certs", "init", "--dir", dir.toString(), "--days", "30", "--name", "Mine");
    String key = Files.readString(dir.resolve("ca.key"));

    CliRun again = CliRun.roost(home, "certs", "init", "--dir", dir.toString());

    assertThat(again.exit()).isEqualTo(CliException.EXIT_INPUT);
    assertThat(again.err())
        .isEqualTo(
            "error: INVALID_ARGUMENT: "
                + dir.resolve("ca.crt")
                + " already exists; refusing to overwrite it"
                + System.lineSeparator());
    assertThat(Files.readString(dir.resolve("ca.key"))).isEqualTo(key);
  }

  @Test
  void jsonOutputListsTheFilesNamesAndExpiry() throws Exception {
    CliRun.ok(home, "certs", "init");

    CliRun issue = CliRun.ok(home, "-o", "json", "certs", "issue", "n2", "--san", "::1");

    assertThat(issue.json().get("files")).hasSize(2);
    assertThat(issue.json().get("subject").asText()).isEqualTo("CN=n2");
    assertThat(issue.json().get("subjectAltNames").get(0).asText()).isEqualTo("::1");
    assertThat(issue.json().get("notAfter").asText()).endsWith("Z");
  }

  @Test
  void badInputIsAnInputErrorWithoutAStackTrace() throws Exception {
    refused(List.of("certs", "issue", "n1", "--san", "n1"), "no CA in " + home.resolve("certs"));
    CliRun.ok(home, "certs", "init");
    refused(
        List.of("certs", "issue", "n1", "--san", "two words"),
        "'two words' is neither an IP address nor a host name");
    refused(List.of("certs", "issue", "n1", "--san", "n1", "--days", "0"), "--days must be");
    refused(List.of("certs", "init", "--days", "-1", "--dir", "x"), "--days must be");
    refused(List.of("certs", "issue", "n1"), "Missing required option: '--san=HOST'");
    refused(List.of("certs", "issue", "../n1", "--san", "n1"), "is not a plain file name");
    assertThat(home.resolve("certs").resolve("n1.key")).doesNotExist();
  }

  private void refused(List<String> args, String message) {
    CliRun run = CliRun.roost(home, args.toArray(String[]::new));
    assertThat(run.exit()).as("%s: %s", args, run.err()).isEqualTo(CliException.EXIT_INPUT);
    assertThat(run.err()).startsWith("error: INVALID_ARGUMENT: ").contains(message);
    assertThat(run.err()).doesNotContain("\tat ", "Exception");
  }
}

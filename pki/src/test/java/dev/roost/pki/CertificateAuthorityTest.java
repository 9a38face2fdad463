package dev.roost.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.roost.api.Pem;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SignatureException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {
  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final int DNS_NAME = 2;
  private static final int IP_ADDRESS = 7;

  @TempDir Path dir;

  private final CertificateAuthority ca =
      CertificateAuthority.create("Test cluster CA", Duration.ofDays(30));

  @Test
  void theCaIsASelfSignedCaForEndEntitiesOnly() throws Exception {
    X509Certificate cert = ca.certificate();

    cert.verify(cert.getPublicKey());
    assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=Test cluster CA");
    assertThat(cert.getBasicConstraints()).isZero();
    assertThat(cert.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
    // keyCertSign (5) and cRLSign (6) only.
    assertThat(cert.getKeyUsage())
        .containsExactly(false, false, false, false, false, true, true, false, false);
    assertThat(cert.getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(cert.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(cert.getSerialNumber().signum()).isPositive();
    assertThat(cert.getSerialNumber().bitLength()).isLessThanOrEqualTo(127);
    assertThat(cert.getNotBefore().toInstant())
        .isCloseTo(Instant.now().minus(Duration.ofMinutes(5)), within(1, ChronoUnit.MINUTES));
  }

  @Test
  void anIssuedCertificateIsSignedByTheCaAndValidatesUnderIt() throws Exception {
    X509Certificate cert =
        ca.issue("n1", List.of("127.0.0.1", "n1.roost"), Duration.ofDays(7)).certificate();

    cert.verify(ca.certificate().getPublicKey());
    validate(cert, ca.certificate());
    assertThat(cert.getIssuerX500Principal()).isEqualTo(ca.certificate().getSubjectX500Principal());
    assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=n1");
    assertThat(cert.getBasicConstraints()).isEqualTo(-1);
    assertThat(cert.getNotAfter().toInstant())
        .isCloseTo(Instant.now().plus(Duration.ofDays(7)), within(1, ChronoUnit.MINUTES));
  }

  @Test
  void subjectAltNamesAreIpOrDnsAndTheCertificateServesServersAndClients() throws Exception {
    X509Certificate cert =
        ca.issue("n1", List.of("127.0.0.1", "::1", "n1.roost", "localhost"), Duration.ofDays(7))
            .certificate();

    assertThat(cert.getSubjectAlternativeNames())
        .containsExactlyInAnyOrder(
            List.of(IP_ADDRESS, "127.0.0.1"),
            List.of(IP_ADDRESS, InetAddress.getByName("::1").getHostAddress()),
            List.of(DNS_NAME, "n1.roost"),
            List.of(DNS_NAME, "localhost"));
    assertThat(cert.getExtendedKeyUsage()).containsExactlyInAnyOrder(SERVER_AUTH, CLIENT_AUTH);
    // digitalSignature only, and critical.
    assertThat(cert.getKeyUsage())
        .containsExactly(true, false, false, false, false, false, false, false, false);
    assertThat(cert.getCriticalExtensionOIDs()).contains("2.5.29.15");
  }

  @Test
  void badSubjectAltNamesAreRefused() {
    assertThatThrownBy(() -> ca.issue("n1", List.of(), Duration.ofDays(1)))
        .isInstanceOf(PkiException.class)
        .hasMessageContaining("at least one subject alternative name");
    assertThatThrownBy(() -> ca.issue("n1", List.of("two words"), Duration.ofDays(1)))
        .isInstanceOf(PkiException.class)
        .hasMessageContaining("'two words' is neither an IP address nor a host name");
    assertThatThrownBy(() -> ca.issue("n1", List.of(""), Duration.ofDays(1)))
        .isInstanceOf(PkiException.class)
        .hasMessageContaining("must not be empty");
    assertThatThrownBy(() -> ca.issue(" ", List.of("n1"), Duration.ofDays(1)))
        .isInstanceOf(PkiException.class)
        .hasMessageContaining("common name must not be empty");
    assertThatThrownBy(() -> ca.issue("n".repeat(65), List.of("n1"), Duration.ofDays(1)))
        .isInstanceOf(PkiException.class)
        .hasMessage("the common name has 65 characters; at most 64");
    assertThatThrownBy(() -> CertificateAuthority.create("c".repeat(65), Duration.ofDays(1)))
        .isInstanceOf(PkiException.class)
        .hasMessage("the CA name has 65 characters; at most 64");
    assertThatThrownBy(() -> ca.issue("n1", List.of("n1"), Duration.ZERO))
        .isInstanceOf(PkiException.class)
        .hasMessageContaining("validity must be positive");
  }

  @Test
  void aValidityBeyondTheCasIsCutToIt() {
    X509Certificate cert = ca.issue("n1", List.of("n1"), Duration.ofDays(365)).certificate();

    assertThat(cert.getNotAfter()).isEqualTo(ca.certificate().getNotAfter());
  }

  @Test
  void aCertificateOfAnotherCaDoesNotValidate() {
    CertificateAuthority other = CertificateAuthority.create("Other CA", Duration.ofDays(30));
    X509Certificate foreign = other.issue("n1", List.of("n1"), Duration.ofDays(7)).certificate();

    assertThatThrownBy(() -> foreign.verify(ca.certificate().getPublicKey()))
        .isInstanceOf(SignatureException.class);
    assertThatThrownBy(() -> validate(foreign, ca.certificate()))
        .isInstanceOf(CertPathValidatorException.class);
  }

  @Test
  void keysAreWrittenOwnerOnlyIntoAnOwnerOnlyDirectory() throws Exception {
    Path certs = dir.resolve("new/certs");
    ca.save(certs);
    ca.issue("n1", List.of("n1"), Duration.ofDays(7)).save(certs, "n1");

    assertThat(Files.getPosixFilePermissions(certs))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    for (String key : List.of("ca.key", "n1.key")) {
      assertThat(Files.getPosixFilePermissions(certs.resolve(key)))
          .as(key)
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
      assertThat(Files.readString(certs.resolve(key))).startsWith("-----BEGIN PRIVATE KEY-----");
    }
    assertThat(Files.readString(certs.resolve("n1.crt"))).startsWith("-----BEGIN CERTIFICATE-----");
  }

  @Test
  void nothingIsOverwritten() throws Exception {
    List<Path> written = ca.save(dir);
    String before = Files.readString(dir.resolve("ca.key"));

    assertThat(written).containsExactly(dir.resolve("ca.crt"), dir.resolve("ca.key"));
    CertificateAuthority second = CertificateAuthority.create("Second", Duration.ofDays(1));
    assertThatThrownBy(() -> second.save(dir))
        .isInstanceOf(PkiException.class)
        .hasMessage(dir.resolve("ca.crt") + " already exists; refusing to overwrite it");
    assertThat(Files.readString(dir.resolve("ca.key"))).isEqualTo(before);

    IssuedCertificate node = ca.issue("n1", List.of("n1"), Duration.ofDays(1));
    node.save(dir, "n1");
    // Only the key is in the way: the certificate must not be written either.
    Files.delete(dir.resolve("n1.crt"));
    assertThatThrownBy(() -> node.save(dir, "n1"))
        .isInstanceOf(PkiException.class)
        .hasMessage(dir.resolve("n1.key") + " already exists; refusing to overwrite it");
    assertThat(dir.resolve("n1.crt")).doesNotExist();
  }

  @Test
  void aNameThatIsNotAPlainFileNameIsRefused() {
    IssuedCertificate node = ca.issue("n1", List.of("n1"), Duration.ofDays(1));

    assertThatThrownBy(() -> node.save(dir, "../n1"))
        .isInstanceOf(PkiException.class)
        .hasMessageContaining("'../n1' is not a plain file name");
    assertThat(dir.getParent().resolve("n1.key")).doesNotExist();
  }

  @Test
  void aSavedCaLoadsBackAndIssuesCertificatesTheOriginalValidates() throws Exception {
    ca.save(dir);

    CertificateAuthority loaded = CertificateAuthority.load(dir);

    assertThat(loaded.certificate()).isEqualTo(ca.certificate());
    validate(loaded.issue("n2", List.of("n2"), Duration.ofDays(1)).certificate(), ca.certificate());
    IssuedCertificate node = loaded.issue("n2", List.of("n2"), Duration.ofDays(1));
    node.save(dir, "n2");
    assertThat(Pem.certificates(dir.resolve("n2.crt"))).containsExactly(node.certificate());
    assertThat(Pem.privateKey(dir.resolve("n2.key"))).isEqualTo(node.privateKey());
  }

  @Test
  void loadSaysWhatIsWrongWithTheDirectory() throws Exception {
    assertThatThrownBy(() -> CertificateAuthority.load(dir))
        .isInstanceOf(PkiException.class)
        .hasMessage(
            "no certificate authority in " + dir + ": " + dir.resolve("ca.crt") + " is missing");

    ca.save(dir);
    Files.delete(dir.resolve("ca.key"));
    assertThatThrownBy(() -> CertificateAuthority.load(dir))
        .isInstanceOf(PkiException.class)
        .hasMessage(dir.resolve("ca.key") + ": does not exist");

    Files.writeString(dir.resolve("ca.key"), "garbage\n");
    assertThatThrownBy(() -> CertificateAuthority.load(dir))
        .isInstanceOf(PkiException.class)
        .hasMessage(dir.resolve("ca.key") + ": holds no PEM private key (no PEM block at all)");

    // Another CA's key next to this CA's certificate.
    Files.delete(dir.resolve("ca.key"));
    Path other = dir.resolve("other");
    CertificateAuthority.create("Other", Duration.ofDays(1)).save(other);
    Files.copy(other.resolve("ca.key"), dir.resolve("ca.key"));
    assertThatThrownBy(() -> CertificateAuthority.load(dir))
        .isInstanceOf(PkiException.class)
        .hasMessage(
            dir.resolve("ca.key")
                + ": is not the private key of the certificate in "
                + dir.resolve("ca.crt"));
  }

  @Test
  void aNodeCertificateIsNoCa() throws Exception {
    ca.issue("n1", List.of("n1"), Duration.ofDays(1)).save(dir, "n1");
    Files.move(dir.resolve("n1.crt"), dir.resolve("ca.crt"));
    Files.move(dir.resolve("n1.key"), dir.resolve("ca.key"));

    assertThatThrownBy(() -> CertificateAuthority.load(dir))
        .isInstanceOf(PkiException.class)
        .hasMessage(dir.resolve("ca.crt") + " is not a CA certificate");
  }

  /** PKIX validation of {@code cert} with {@code anchor} as the only trust anchor. */
  static void validate(X509Certificate cert, X509Certificate anchor) throws Exception {
    PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
    parameters.setRevocationEnabled(false);
    CertPathValidator.getInstance("PKIX")
        .validate(
            CertificateFactory.getInstance("X.509").generateCertPath(List.of(cert)), parameters);
  }
}

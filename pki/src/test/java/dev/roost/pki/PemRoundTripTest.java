package dev.roost.pki;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.api.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Pem} reads back exactly what {@link CertificateAuthority} wrote, as Jetty would take it.
 */
class PemRoundTripTest {
  @TempDir Path dir;

  @Test
  void aNodesFilesBecomeAKeyStoreWithOneKeyEntryAndItsCertificate() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("CA", Duration.ofDays(2));
    IssuedCertificate node = ca.issue("n1", List.of("n1"), Duration.ofDays(1));
    node.save(dir, "n1");

    KeyStore store = Pem.keyStore(dir.resolve("n1.crt"), dir.resolve("n1.key"));

    assertThat(store.getType()).isEqualToIgnoringCase("PKCS12");
    List<String> aliases = Collections.list(store.aliases());
    assertThat(aliases).hasSize(1);
    assertThat(store.isKeyEntry(aliases.get(0))).isTrue();
    assertThat(store.getKey(aliases.get(0), Pem.KEY_PASSWORD.toCharArray()))
        .isEqualTo(node.privateKey());
    assertThat(store.getCertificate(aliases.get(0))).isEqualTo(node.certificate());
    assertThat(Pem.notAfter(dir.resolve("n1.crt")))
        .isEqualTo(node.certificate().getNotAfter().toInstant());
  }

  @Test
  void aBundleOfCasBecomesATrustStoreOfThemAll() throws Exception {
    CertificateAuthority first = CertificateAuthority.create("First", Duration.ofDays(1));
    CertificateAuthority second = CertificateAuthority.create("Second", Duration.ofDays(1));
    first.save(dir.resolve("first"));
    second.save(dir.resolve("second"));
    Path bundle = dir.resolve("bundle.crt");
    Files.writeString(
        bundle,
        Files.readString(dir.resolve("first/ca.crt"))
            + Files.readString(dir.resolve("second/ca.crt")));

    KeyStore trusted = Pem.trustStore(bundle);

    assertThat(Pem.certificates(bundle)).containsExactly(first.certificate(), second.certificate());
    List<Object> entries = new ArrayList<>();
    for (String alias : Collections.list(trusted.aliases())) {
      assertThat(trusted.isCertificateEntry(alias)).as(alias).isTrue();
      entries.add(trusted.getCertificate(alias));
    }
    assertThat(entries).containsExactlyInAnyOrder(first.certificate(), second.certificate());
  }
}

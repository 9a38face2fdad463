package dev.roost.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link Pem} makes of files it cannot use, and of keys the JDK alone can make. Certificates
 * need a CA to sign them; the tests with real certificates and a TLS handshake are in the pki
 * module, which has one.
 */
class PemTest {
  @TempDir Path dir;

  @Test
  void readsUnencryptedPkcs8KeysOfEcAndRsa() throws Exception {
    for (String algorithm : new String[] {"EC", "RSA"}) {
      PrivateKey key = KeyPairGenerator.getInstance(algorithm).generateKeyPair().getPrivate();
      Path file = write(algorithm + ".key", pem("PRIVATE KEY", key.getEncoded()));

      assertThat(Pem.privateKey(file).getEncoded()).as(algorithm).isEqualTo(key.getEncoded());
    }
  }

  @Test
  void aLegacyKeyIsRefusedWithTheCommandThatConvertsIt() throws Exception {
    Path file = write("node.key", pem("EC PRIVATE KEY", new byte[] {1, 2, 3}));

    assertThatThrownBy(() -> Pem.privateKey(file))
        .isInstanceOf(PemException.class)
        .hasMessageStartingWith(file.toString())
        .hasMessageContaining("\"EC PRIVATE KEY\"")
        .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt -in " + file);
  }

  @Test
  void aKeyOfNeitherKnownAlgorithmIsRefused() throws Exception {
    Path file = write("odd.key", pem("PRIVATE KEY", new byte[] {0x30, 0x03, 0x02, 0x01, 0x00}));

    assertThatThrownBy(() -> Pem.privateKey(file))
        .isInstanceOf(PemException.class)
        .hasMessage(file + ": holds a PRIVATE KEY that is neither an EC nor an RSA key");
  }

  @Test
  void aKeyWhereACertificateShouldBeSaysWhatItFound() throws Exception {
    PrivateKey key = KeyPairGenerator.getInstance("EC").generateKeyPair().getPrivate();
    Path file = write("swapped.crt", pem("PRIVATE KEY", key.getEncoded()));

    assertThatThrownBy(() -> Pem.certificates(file))
        .isInstanceOf(PemException.class)
        .hasMessage(file + ": holds no PEM certificate (it holds a \"PRIVATE KEY\")");
    assertThatThrownBy(() -> Pem.trustStore(file)).isInstanceOf(PemException.class);
    assertThatThrownBy(() -> Pem.clientContext(file)).isInstanceOf(PemException.class);
  }

  @Test
  void aFileWithoutPemIsRefused() throws Exception {
    Path file = write("notes.txt", "not a certificate\n");

    assertThatThrownBy(() -> Pem.certificates(file))
        .hasMessage(file + ": holds no PEM certificate (no PEM block at all)");
    assertThatThrownBy(() -> Pem.privateKey(file))
        .hasMessage(file + ": holds no PEM private key (no PEM block at all)");
  }

  @Test
  void aCorruptCertificateIsRefused() throws Exception {
    Path file = write("corrupt.crt", pem("CERTIFICATE", new byte[] {0x30, 0x03, 0x02, 0x01, 0x00}));

    assertThatThrownBy(() -> Pem.notAfter(file))
        .isInstanceOf(PemException.class)
        .hasMessageStartingWith(file + ": holds a certificate that cannot be read");
  }

  @Test
  void aMissingFileIsNamed() {
    Path missing = dir.resolve("nowhere.crt");

    assertThatThrownBy(() -> Pem.serverContext(missing, dir.resolve("nowhere.key")))
        .isInstanceOf(PemException.class)
        .hasMessage(missing + ": does not exist");
  }

  private Path write(String name, String text) throws Exception {
    return Files.writeString(dir.resolve(name), text);
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}

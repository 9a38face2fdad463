package dev.roost.pki;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A node's certificate, signed by the cluster's {@link CertificateAuthority}, with its private key:
 * what a server presents on its peer port (as TLS server and as TLS client), its client port and
 * its HTTPS endpoint.
 */
public final class IssuedCertificate {
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}");

  private final X509Certificate certificate;
  private final PrivateKey privateKey;

  IssuedCertificate(X509Certificate certificate, PrivateKey privateKey) {
    this.certificate = Objects.requireNonNull(certificate);
    this.privateKey = Objects.requireNonNull(privateKey);
  }

  /** The certificate, as a JDK certificate. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** The certificate's private key. */
  public PrivateKey privateKey() {
    return privateKey;
  }

  /**
   * Writes {@code <name>.crt} (the PEM certificate) and {@code <name>.key} (the PEM PKCS#8 private
   * key, created readable and writable by its owner only) into {@code dir}, creating {@code dir}
   * owner-only if it does not exist. Requires a POSIX file system.
   *
   * @param name a plain file name: letters, digits, {@code _ . -}, not starting with a dot
   * @return the two files written, certificate first
   * @throws PkiException if {@code name} is not a plain file name, either file already exists
   *     (nothing is overwritten), or a file cannot be written
   */
  public List<Path> save(Path dir, String name) {
    if (name == null || !FILE_NAME.matcher(name).matches()) {
      throw new PkiException(
          "certificate name '"
              + name
              + "' is not a plain file name (letters, digits, '_', '.', '-'; not starting with"
              + " '.' or '-')");
    }
    return PemFiles.write(
        certificate, privateKey, dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
  }

  /** The subject and expiry; never the key. */
  @Override
  public String toString() {
    return "IssuedCertificate["
        + certificate.getSubjectX500Principal().getName()
        + ", notAfter="
        + certificate.getNotAfter().toInstant()
        + "]";
  }
}

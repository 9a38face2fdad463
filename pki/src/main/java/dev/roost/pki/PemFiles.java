package dev.roost.pki;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * Writes a certificate and its private key as a pair of new PEM files, in the forms {@code
 * dev.roost.api.Pem} reads: the key as unencrypted PKCS#8, readable by its owner only.
 */
final class PemFiles {
  private static final FileAttribute<?> OWNER_ONLY_FILE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
  private static final FileAttribute<?> OWNER_ONLY_DIR =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

  private PemFiles() {}

  /**
   * Writes {@code certificate} to {@code certFile} and {@code key} to {@code keyFile}, creating
   * their directory (owner-only) if needed. Neither file may exist; if the second write fails the
   * first file is removed again, so that a retry does not trip over half a pair.
   *
   * @return the files written, certificate first
   */
  static List<Path> write(
      X509Certificate certificate, PrivateKey key, Path certFile, Path keyFile) {
    Path dir = certFile.toAbsolutePath().getParent();
    for (Path file : List.of(certFile, keyFile)) {
      if (Files.exists(file)) {
        throw new PkiException(file + " already exists; refusing to overwrite it");
      }
    }
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir, OWNER_ONLY_DIR);
      }
    } catch (IOException e) {
      throw new PkiException("cannot create directory " + dir + ": " + e, e);
    }
    // The key first, created owner-only: at no moment can another user read it.
    create(keyFile, pem(key), OWNER_ONLY_FILE);
    try {
      create(certFile, pem(certificate));
    } catch (PkiException e) {
      try {
        Files.deleteIfExists(keyFile);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    return List.of(certFile, keyFile);
  }

  /** The PEM text of a certificate, or of a private key as unencrypted PKCS#8. */
  private static String pem(Object object) {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      // Given the key itself, the writer would use OpenSSL's legacy "EC PRIVATE KEY" form.
      writer.writeObject(
          object instanceof PrivateKey key ? new JcaPKCS8Generator(key, null) : object);
    } catch (IOException e) {
      throw new UncheckedIOException("writing PEM to memory", e);
    }
    return text.toString();
  }

  private static void create(Path file, String content, FileAttribute<?>... attributes) {
    try (SeekableByteChannel out =
        Files.newByteChannel(
            file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), attributes)) {
      out.write(ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII)));
    } catch (FileAlreadyExistsException e) {
      throw new PkiException(file + " already exists; refusing to overwrite it", e);
    } catch (IOException e) {
      throw new PkiException("cannot write " + file + ": " + e, e);
    }
  }
}

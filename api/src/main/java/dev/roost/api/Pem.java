package dev.roost.api;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Reads the PEM files {@code roost certs} writes (and any other PEM certificates and unencrypted
 * PKCS#8 keys) into what the JDK's TLS needs, with the JDK alone: servers and clients take this
 * module and no cryptography library.
 *
 * <p>The contexts returned here do not check host names: a client must turn endpoint identification
 * on where it opens the connection ({@code
 * SSLParameters.setEndpointIdentificationAlgorithm("HTTPS")}), and a server that wants client
 * certificates must ask for them on its sockets or engines ({@code setNeedClientAuth(true)}).
 *
 * <p>Every method throws {@link PemException}, naming the file, when a file is missing, unreadable
 * or not what it should be.
 */
public final class Pem {
  /**
   * The password of the key entry in {@link #keyStore}: empty, as the store never leaves memory.
   * Give it to whatever builds key managers from that store.
   */
  public static final String KEY_PASSWORD = "";

  private static final String KEY_ALIAS = "roost";
  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);

  private Pem() {}

  /**
   * The certificates in {@code file}, in file order: a certificate alone, a certificate followed by
   * its chain, or a bundle of CAs.
   *
   * @throws PemException if the file cannot be read or holds no PEM certificate
   */
  public static List<X509Certificate> certificates(Path file) {
    String text = read(file);
    if (!text.contains("-----BEGIN CERTIFICATE-----")) {
      throw new PemException(file, "holds no PEM certificate" + found(text));
    }
    try {
      List<X509Certificate> certificates = new ArrayList<>();
      for (Certificate c :
          CertificateFactory.getInstance("X.509")
              .generateCertificates(
                  new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)))) {
        certificates.add((X509Certificate) c);
      }
      return certificates;
    } catch (CertificateException e) {
      throw new PemException(file, "holds a certificate that cannot be read: " + e.getMessage(), e);
    }
  }

  /**
   * The first private key in {@code file}, which must be an unencrypted PKCS#8 key ({@code
   * -----BEGIN PRIVATE KEY-----}) of type EC or RSA.
   *
   * @throws PemException if the file cannot be read, holds no such key, or holds a key in another
   *     PEM form (the message says how to convert it with openssl)
   */
  public static PrivateKey privateKey(Path file) {
    String text = read(file);
    Matcher block = BLOCK.matcher(text);
    String other = null;
    while (block.find()) {
      String type = block.group(1);
      if (type.equals("PRIVATE KEY")) {
        return pkcs8(file, block.group(2));
      }
      if (other == null && type.endsWith("PRIVATE KEY")) {
        other = type;
      }
    }
    if (other != null) {
      throw new PemException(
          file,
          "holds a \""
              + other
              + "\"; Roost reads unencrypted PKCS#8 keys (\"PRIVATE KEY\"): convert it with"
              + " openssl pkcs8 -topk8 -nocrypt -in "
              + file
              + " -out KEYFILE");
    }
    throw new PemException(file, "holds no PEM private key" + found(text));
  }

  /**
   * A key store holding the private key of {@code keyFile} under the certificate chain of {@code
   * certFile}, as the one key entry, protected by {@link #KEY_PASSWORD}.
   *
   * @throws PemException if either file is unusable, or the key is not the certificate's
   */
  public static KeyStore keyStore(Path certFile, Path keyFile) {
    List<X509Certificate> chain = certificates(certFile);
    PrivateKey key = privateKey(keyFile);
    if (!matches(key, chain.get(0).getPublicKey())) {
      throw new PemException(
          keyFile, "is not the private key of the certificate in " + certFile.toAbsolutePath());
    }
    try {
      KeyStore store = emptyStore();
      store.setKeyEntry(
          KEY_ALIAS, key, KEY_PASSWORD.toCharArray(), chain.toArray(Certificate[]::new));
      return store;
    } catch (GeneralSecurityException e) {
      throw new PemException(keyFile, "cannot be stored with its certificate: " + e, e);
    }
  }

  /**
   * A key store holding every certificate of {@code caFile} as a trusted certificate entry, and
   * nothing else.
   *
   * @throws PemException if the file cannot be read or holds no PEM certificate
   */
  public static KeyStore trustStore(Path caFile) {
    List<X509Certificate> cas = certificates(caFile);
    try {
      KeyStore store = emptyStore();
      for (int i = 0; i < cas.size(); i++) {
        store.setCertificateEntry("ca-" + i, cas.get(i));
      }
      return store;
    } catch (GeneralSecurityException e) {
      throw new PemException(caFile, "cannot be made a trust store: " + e, e);
    }
  }

  /**
   * A TLS client context that trusts the CAs of {@code caFile} and no other, and presents no
   * certificate of its own. Host names are checked only if the caller turns endpoint identification
   * on (see the class comment).
   *
   * @throws PemException if the file cannot be read or holds no PEM certificate
   */
  public static SSLContext clientContext(Path caFile) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trustManagers(trustStore(caFile)).getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new PemException(caFile, "cannot be used for TLS: " + e, e);
    }
  }

  /**
   * A TLS server context presenting the certificate chain of {@code certFile} with the key of
   * {@code keyFile}. It trusts no one: it suits endpoints that ask for no client certificate.
   *
   * @throws PemException if either file is unusable, or the key is not the certificate's
   */
  public static SSLContext serverContext(Path certFile, Path keyFile) {
    return context(certFile, keyFile, null);
  }

  /**
   * A TLS context presenting the certificate chain of {@code certFile} with the key of {@code
   * keyFile} and trusting the CAs of {@code caFile} (and no other) for the other side's
   * certificate. It serves mutual TLS in both directions: as a server that requires client
   * certificates (the caller sets {@code setNeedClientAuth(true)}), and as a client that presents
   * its own.
   *
   * @throws PemException if any file is unusable, or the key is not the certificate's
   */
  public static SSLContext serverContext(Path certFile, Path keyFile, Path caFile) {
    return context(certFile, keyFile, caFile);
  }

  /**
   * When the first certificate of {@code certFile} expires.
   *
   * @throws PemException if the file cannot be read or holds no PEM certificate
   */
  public static Instant notAfter(Path certFile) {
    return certificates(certFile).get(0).getNotAfter().toInstant();
  }

  /** A context with the key of the two files, trusting the CAs of {@code caFile}, or none. */
  private static SSLContext context(Path certFile, Path keyFile, Path caFile) {
    KeyStore own = keyStore(certFile, keyFile);
    KeyStore trusted = caFile == null ? null : trustStore(caFile);
    try {
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(own, KEY_PASSWORD.toCharArray());
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(
          keys.getKeyManagers(),
          // An empty store, not null: null would mean the JDK's default CAs.
          trustManagers(trusted == null ? emptyStore() : trusted).getTrustManagers(),
          null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new PemException(certFile, "cannot be used for TLS: " + e, e);
    }
  }

  private static TrustManagerFactory trustManagers(KeyStore trusted)
      throws GeneralSecurityException {
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    return trust;
  }

  private static KeyStore emptyStore() throws GeneralSecurityException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try {
      store.load(null, null);
    } catch (IOException e) {
      throw new IllegalStateException("an empty in-memory key store cannot fail to load", e);
    }
    return store;
  }

  private static PrivateKey pkcs8(Path file, String base64) {
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new PemException(file, "holds a PRIVATE KEY that is not valid base64", e);
    }
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : List.of("EC", "RSA")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (InvalidKeySpecException notThisAlgorithm) {
        // Try the next one; the key says its algorithm only inside the DER we are decoding.
      } catch (GeneralSecurityException e) {
        throw new PemException(file, "cannot be read: " + e, e);
      }
    }
    throw new PemException(file, "holds a PRIVATE KEY that is neither an EC nor an RSA key");
  }

  /** Whether {@code key} signs what {@code publicKey} verifies: the JDK has no direct test. */
  private static boolean matches(PrivateKey key, PublicKey publicKey) {
    if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
      return false;
    }
    String algorithm = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    byte[] probe = "roost key check".getBytes(StandardCharsets.US_ASCII);
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String read(Path file) {
    try {
      // Latin-1 maps every byte, so a binary file fails as "not PEM", not as a decoding error.
      return Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (NoSuchFileException e) {
      throw new PemException(file, "does not exist", e);
    } catch (AccessDeniedException e) {
      throw new PemException(file, "cannot be read: permission denied", e);
    } catch (IOException e) {
      throw new PemException(file, "cannot be read: " + e, e);
    }
  }

  /** What the file holds instead, for the error message. */
  private static String found(String text) {
    Matcher block = BLOCK.matcher(text);
    return block.find() ? " (it holds a \"" + block.group(1) + "\")" : " (no PEM block at all)";
  }
}

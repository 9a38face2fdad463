package dev.roost.pki;

import dev.roost.api.Pem;
import dev.roost.api.PemException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;

/**
 * The cluster's certificate authority: a self-signed CA certificate and its key, which sign the
 * certificates of the nodes. Every node trusts the CA certificate ({@code ca.crt}) and nothing
 * else; the CA key ({@code ca.key}) stays with the operator and never goes to a node.
 *
 * <p>Keys are EC P-256 and signatures SHA256withECDSA. BouncyCastle builds and encodes the
 * certificates; keys come from, and signatures are made by, the JVM's own providers, and no
 * provider is registered with the JVM. Every certificate's validity starts five minutes in the
 * past, so that a machine whose clock runs a little behind accepts it at once.
 *
 * <p>Failures the operator must fix (bad arguments, files in the way, a broken CA directory) are
 * {@link PkiException}s whose message says what is wrong.
 */
public final class CertificateAuthority {
  /** The CA certificate's file name in a CA directory. */
  public static final String CERT_FILE = "ca.crt";

  /** The CA key's file name in a CA directory. */
  public static final String KEY_FILE = "ca.key";

  /** The longest common name a certificate may carry (RFC 5280's ub-common-name). */
  static final int MAX_COMMON_NAME = 64;

  private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
  private static final String SIGNATURE = "SHA256withECDSA";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Pattern DNS_NAME = Pattern.compile("[A-Za-z0-9*_.-]+");

  private final X509Certificate certificate;
  private final PrivateKey key;

  private CertificateAuthority(X509Certificate certificate, PrivateKey key) {
    this.certificate = certificate;
    this.key = key;
  }

  /**
   * A new CA with a fresh key: subject {@code CN=<name>}, a CA for end entities only (path length
   * 0), valid from now (less the clock skew allowance) for {@code validity}. Nothing is written;
   * see {@link #save}.
   *
   * @throws PkiException if {@code name} is blank or {@code validity} is not positive
   */
  public static CertificateAuthority create(String name, Duration validity) {
    X500Name subject = commonName(name, "CA name");
    Instant now = Instant.now();
    Instant notAfter = now.plus(positive(validity));
    KeyPair pair = newKeyPair();
    try {
      X509v3CertificateBuilder builder =
          builder(subject, subject, now, notAfter, pair.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
              .addExtension(
                  Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return new CertificateAuthority(sign(builder, pair.getPrivate()), pair.getPrivate());
    } catch (CertIOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build a CA certificate", e);
    }
  }

  /**
   * The CA saved in {@code dir} by {@link #save}.
   *
   * @throws PkiException if {@code ca.crt} or {@code ca.key} is missing or unreadable, is not PEM,
   *     the certificate is not a CA certificate, or the key is not the certificate's
   */
  public static CertificateAuthority load(Path dir) {
    Path certFile = dir.resolve(CERT_FILE);
    Path keyFile = dir.resolve(KEY_FILE);
    if (!Files.exists(certFile)) {
      throw new PkiException(
          "no certificate authority in " + dir + ": " + certFile + " is missing");
    }
    try {
      KeyStore store = Pem.keyStore(certFile, keyFile);
      String alias = store.aliases().nextElement();
      X509Certificate certificate = (X509Certificate) store.getCertificate(alias);
      if (certificate.getBasicConstraints() < 0) {
        throw new PkiException(certFile + " is not a CA certificate");
      }
      PrivateKey key = (PrivateKey) store.getKey(alias, Pem.KEY_PASSWORD.toCharArray());
      return new CertificateAuthority(certificate, key);
    } catch (PemException e) {
      throw new PkiException(e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the key store Pem just filled cannot be read", e);
    }
  }

  /**
   * Writes {@code ca.crt} (the PEM certificate) and {@code ca.key} (the PEM PKCS#8 private key,
   * created readable and writable by its owner only) into {@code dir}, creating {@code dir}
   * owner-only if it does not exist. Requires a POSIX file system.
   *
   * @return the two files written, certificate first
   * @throws PkiException if either file already exists (nothing is overwritten) or cannot be
   *     written
   */
  public List<Path> save(Path dir) {
    return PemFiles.write(certificate, key, dir.resolve(CERT_FILE), dir.resolve(KEY_FILE));
  }

  /**
   * A new certificate, with a fresh key, for a node: subject {@code CN=<commonName>}, for TLS
   * servers and clients alike, valid from now (less the clock skew allowance) for {@code validity},
   * but never beyond the CA's own expiry: a longer validity is cut to the CA's, since the
   * certificate could not be verified after that anyway. Callers that care compare the
   * certificate's expiry with {@link #certificate()}'s.
   *
   * @param subjectAltNames the host names and IP addresses the node is reached at; an IPv4 or IPv6
   *     literal becomes an IP address name, anything else a DNS name. Clients that check host names
   *     accept the certificate only for these.
   * @throws PkiException if {@code commonName} is blank, there is no subject alternative name or
   *     one is malformed, {@code validity} is not positive, or the CA has expired
   */
  public IssuedCertificate issue(
      String commonName, List<String> subjectAltNames, Duration validity) {
    X500Name subject = commonName(commonName, "common name");
    GeneralNames names = alternativeNames(subjectAltNames);
    Instant now = Instant.now();
    Instant caExpiry = certificate.getNotAfter().toInstant();
    if (!caExpiry.isAfter(now)) {
      throw new PkiException("the CA expired at " + caExpiry + "; create a new one");
    }
    Instant notAfter = now.plus(positive(validity));
    if (notAfter.isAfter(caExpiry)) {
      notAfter = caExpiry;
    }
    KeyPair pair = newKeyPair();
    try {
      X509v3CertificateBuilder builder =
          builder(
                  X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
                  subject,
                  now,
                  notAfter,
                  pair.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(
                      new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                      }))
              .addExtension(Extension.subjectAlternativeName, false, names)
              .addExtension(
                  Extension.authorityKeyIdentifier,
                  false,
                  new JcaX509ExtensionUtils()
                      .createAuthorityKeyIdentifier(certificate.getPublicKey()));
      return new IssuedCertificate(sign(builder, key), pair.getPrivate());
    } catch (CertIOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build a node certificate", e);
    }
  }

  /** The CA certificate: what nodes and clients trust. */
  public X509Certificate certificate() {
    return certificate;
  }

  /**
   * A certificate of {@code subject}'s {@code key}, issued by {@code issuer}, valid from a clock
   * skew before {@code now} to {@code notAfter}, with its subject key identifier.
   */
  private static X509v3CertificateBuilder builder(
      X500Name issuer, X500Name subject, Instant now, Instant notAfter, PublicKey key)
      throws CertIOException, GeneralSecurityException {
    return new JcaX509v3CertificateBuilder(
            issuer, serial(), Date.from(now.minus(CLOCK_SKEW)), Date.from(notAfter), subject, key)
        .addExtension(
            Extension.subjectKeyIdentifier,
            false,
            new JcaX509ExtensionUtils().createSubjectKeyIdentifier(key));
  }

  private static X500Name commonName(String name, String what) {
    if (name == null || name.isBlank()) {
      throw new PkiException("the " + what + " must not be empty");
    }
    if (name.length() > MAX_COMMON_NAME) {
      throw new PkiException(
          "the " + what + " has " + name.length() + " characters; at most " + MAX_COMMON_NAME);
    }
    // Built as one attribute, not parsed: a name with commas or '=' stays one common name.
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build();
  }

  private static GeneralNames alternativeNames(List<String> entries) {
    if (entries == null || entries.isEmpty()) {
      throw new PkiException(
          "at least one subject alternative name (host name or IP address) is required");
    }
    List<GeneralName> names = new ArrayList<>();
    for (String entry : entries) {
      if (entry == null || entry.isEmpty()) {
        throw new PkiException("a subject alternative name must not be empty");
      }
      if (IPAddress.isValid(entry)) {
        names.add(new GeneralName(GeneralName.iPAddress, entry));
      } else if (DNS_NAME.matcher(entry).matches()) {
        names.add(new GeneralName(GeneralName.dNSName, entry));
      } else {
        throw new PkiException(
            "subject alternative name '"
                + entry
                + "' is neither an IP address nor a host name (letters, digits, '-', '.', '_',"
                + " '*')");
      }
    }
    return new GeneralNames(names.toArray(GeneralName[]::new));
  }

  private static Duration positive(Duration validity) {
    Objects.requireNonNull(validity, "validity");
    if (validity.isNegative() || validity.isZero()) {
      throw new PkiException("the validity must be positive, not " + validity);
    }
    return validity;
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM cannot make EC P-256 keys", e);
    }
  }

  /** A random positive serial of at most 127 bits: unique without a counter to keep. */
  private static BigInteger serial() {
    BigInteger serial;
    do {
      serial = new BigInteger(127, RANDOM);
    } while (serial.signum() == 0);
    return serial;
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign with " + SIGNATURE, e);
    }
  }
}

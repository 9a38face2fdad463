package dev.roost.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roost.pki.CertificateAuthority;
import dev.roost.pki.IssuedCertificate;
import dev.roost.pki.PkiException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code roost certs init|issue}: the cluster's TLS certificates. {@code init} creates the cluster
 * CA, {@code issue} a certificate and key for one node, signed by it; both write PEM files into one
 * directory and never overwrite a file. Problems with the arguments or the files are input errors
 * (exit status 2).
 */
@Command(
    name = "certs",
    description = "Create the cluster's certificate authority and node certificates for TLS.",
    subcommands = {CertsCommand.Init.class, CertsCommand.Issue.class})
final class CertsCommand {
  /** Longer than any CA should live, and within what X.509 dates can say. */
  private static final int MAX_DAYS = 36_500;

  /** Base of the verbs: the directory of the CA and the validity in days. */
  abstract static class CertsVerb extends Verb {
    @Option(
        names = "--dir",
        paramLabel = "DIR",
        description =
            "Directory of the CA and the certificates (default: certs/ under --home or"
                + " $ROOST_HOME if given, else ./certs).")
    Path dir;

    abstract int days();

    Path dir() {
      if (dir != null) {
        return dir.toAbsolutePath();
      }
      RoostCli root = root();
      // Not the local cluster's ./.roost fallback: certificates are mostly made for other
      // machines, and a visible ./certs is where the operator will look for them.
      boolean homeGiven =
          root.home != null
              || System.getProperty("roost.home") != null
              || System.getenv("ROOST_HOME") != null;
      return homeGiven ? root.home().resolve("certs") : Path.of("certs").toAbsolutePath();
    }

    Duration validity() throws CliException {
      if (days() < 1 || days() > MAX_DAYS) {
        throw CliException.usage("--days must be between 1 and " + MAX_DAYS + ", not " + days());
      }
      return Duration.ofDays(days());
    }

    @Override
    public Integer call() throws Exception {
      try {
        return super.call();
      } catch (PkiException e) {
        throw CliException.usage(e.getMessage());
      }
    }

    /** A line for people; paths and names come from the user, so shown {@link Output#printable}. */
    void line(String text) {
      root().out().println(Output.printable(text));
    }

    static void putFiles(ObjectNode json, List<Path> files) {
      ArrayNode array = json.putArray("files");
      files.forEach(f -> array.add(f.toString()));
    }
  }

  @Command(
      name = "init",
      description = "Create the cluster CA: ca.crt (for every node) and ca.key (for you only).")
  static final class Init extends CertsVerb {
    @Option(
        names = "--days",
        paramLabel = "DAYS",
        defaultValue = "3650",
        description = "Validity of the CA in days (default: ${DEFAULT-VALUE}).")
    int days;

    @Option(
        names = "--name",
        defaultValue = "Roost cluster CA",
        description = "Common name of the CA (default: ${DEFAULT-VALUE}).")
    String name;

    @Override
    int days() {
      return days;
    }

    @Override
    public void run() throws CliException {
      CertificateAuthority ca = CertificateAuthority.create(name, validity());
      List<Path> files = ca.save(dir());
      Instant expires = ca.certificate().getNotAfter().toInstant();
      Output out = output();
      if (out.json()) {
        ObjectNode json = out.object();
        putFiles(json, files);
        json.put("subject", ca.certificate().getSubjectX500Principal().getName());
        json.put("notAfter", expires.toString());
        out.print(json);
        return;
      }
      files.forEach(f -> line("wrote " + f));
      line("CA \"" + name + "\" valid until " + Output.time(expires.toEpochMilli()) + " UTC");
      line(
          "Keep ca.key secret: it signs node certificates and is not needed on the nodes (they"
              + " take ca.crt).");
    }
  }

  @Command(
      name = "issue",
      description =
          "Issue NAME.crt and NAME.key, signed by the CA in --dir, for a node reached at each"
              + " --san.")
  static final class Issue extends CertsVerb {
    @Parameters(paramLabel = "NAME", description = "File name and common name of the certificate.")
    String name;

    @Option(
        names = "--san",
        required = true,
        split = ",",
        paramLabel = "HOST",
        description =
            "A host name or IP address the node is reached at (repeat, or separate with commas);"
                + " TLS clients accept the certificate for these only.")
    List<String> sans;

    @Option(
        names = "--days",
        paramLabel = "DAYS",
        defaultValue = "365",
        description =
            "Validity in days (default: ${DEFAULT-VALUE}), cut to the CA's if that ends sooner.")
    int days;

    @Override
    int days() {
      return days;
    }

    @Override
    public void run() throws CliException {
      Duration validity = validity();
      Path dir = dir();
      if (!Files.exists(dir.resolve(CertificateAuthority.CERT_FILE))) {
        throw CliException.usage(
            "no CA in " + dir + "; create one with: roost certs init --dir " + dir);
      }
      CertificateAuthority ca = CertificateAuthority.load(dir);
      IssuedCertificate issued = ca.issue(name, sans, validity);
      List<Path> files = issued.save(dir, name);
      Instant expires = issued.certificate().getNotAfter().toInstant();
      boolean cut = expires.equals(ca.certificate().getNotAfter().toInstant());
      Output out = output();
      if (out.json()) {
        ObjectNode json = out.object();
        putFiles(json, files);
        json.put("subject", issued.certificate().getSubjectX500Principal().getName());
        ArrayNode names = json.putArray("subjectAltNames");
        sans.forEach(names::add);
        json.put("notAfter", expires.toString());
        out.print(json);
        return;
      }
      files.forEach(f -> line("wrote " + f));
      line("subject alternative names: " + String.join(", ", sans));
      line(
          "expires "
              + Output.time(expires.toEpochMilli())
              + " UTC"
              + (cut ? " (the CA's own expiry: renew the CA before then)" : ""));
    }
  }
}

package dev.roost.cli;

import com.google.protobuf.ByteString;
import dev.roost.client.RoostClient;
import dev.roost.proto.KvEntry;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The key-value map: {@code kv put|get|del|cas|list}. Values are given and shown as UTF-8. */
@Command(
    name = "kv",
    description = "The key-value map.",
    subcommands = {
      KvCommand.Put.class,
      KvCommand.Get.class,
      KvCommand.Del.class,
      KvCommand.Cas.class,
      KvCommand.List.class
    })
final class KvCommand {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Replies to writes carry the key's revisions but not its value (the servers remember them for
   * de-duplication, and values can be large); the value written is the one just sent.
   */
  private static KvEntry withValue(KvEntry written, String value) {
    return written.toBuilder().setValue(ByteString.copyFromUtf8(value)).build();
  }

  @Command(name = "put", description = "Set KEY to VALUE.")
  static final class Put extends Verb.WithClient {
    @Parameters(index = "0", paramLabel = "KEY")
    String key;

    @Parameters(index = "1", paramLabel = "VALUE")
    String value;

    @Override
    public void run(RoostClient client) {
      output().entry(withValue(client.kvPut(key, utf8(value)), value));
    }
  }

  @Command(name = "get", description = "Show KEY's value, version and revisions.")
  static final class Get extends Verb.WithClient {
    @Parameters(paramLabel = "KEY")
    String key;

    @Override
    public void run(RoostClient client) {
      output().entry(client.kvGet(key));
    }
  }

  @Command(name = "del", description = "Delete KEY.")
  static final class Del extends Verb.WithClient {
    @Parameters(paramLabel = "KEY")
    String key;

    @Override
    public void run(RoostClient client) {
      client.kvDelete(key);
      var json = output().object();
      json.put("deleted", key);
      output().result(json, "deleted " + key);
    }
  }

  @Command(
      name = "cas",
      description =
          "Set KEY to NEW only if its value is EXPECTED (or, with --by-version, its version).")
  static final class Cas extends Verb.WithClient {
    @Parameters(index = "0", paramLabel = "KEY")
    String key;

    @Parameters(index = "1", paramLabel = "EXPECTED")
    String expected;

    @Parameters(index = "2", paramLabel = "NEW")
    String value;

    @Option(
        names = "--by-version",
        description = "EXPECTED is a version number; 0 means the key must not exist.")
    boolean byVersion;

    @Override
    public void run(RoostClient client) throws CliException {
      if (byVersion) {
        long version;
        try {
          version = Long.parseLong(expected);
        } catch (NumberFormatException e) {
          throw CliException.usage(
              "with --by-version, EXPECTED must be a number, was '" + expected + "'");
        }
        output().entry(withValue(client.kvCompareAndSetVersion(key, version, utf8(value)), value));
      } else {
        output()
            .entry(withValue(client.kvCompareAndSetValue(key, utf8(expected), utf8(value)), value));
      }
    }
  }

  @Command(name = "list", description = "List keys starting with PREFIX, in key order.")
  static final class List extends Verb.WithClient {
    @Parameters(paramLabel = "PREFIX", defaultValue = "", arity = "0..1")
    String prefix;

    @Option(
        names = "--limit",
        defaultValue = "50",
        description = "Page size, 1-200 (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--page", defaultValue = "", description = "Page token from a previous page.")
    String page;

    @Override
    public void run(RoostClient client) {
      output().entries(client.kvList(prefix, limit, page));
    }
  }
}

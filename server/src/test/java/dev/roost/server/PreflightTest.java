package dev.roost.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreflightTest {
  @TempDir Path tmp;

  @Test
  void aMissingDataDirIsCreated() throws Exception {
    Path dir = tmp.resolve("a/b/n1");

    Preflight.checkDataDir(dir);

    assertThat(dir).isDirectory().isEmptyDirectory();
  }

  @Test
  void aFileIsNotADataDir() throws Exception {
    Path file = Files.createFile(tmp.resolve("n1"));

    assertThatThrownBy(() -> Preflight.checkDataDir(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage("--data-dir: '" + file + "' is not a directory");
  }

  @Test
  void aDataDirThatCannotBeCreatedIsReported() throws Exception {
    // A regular file in the way fails even for root, unlike file permissions.
    Path dir = Files.createFile(tmp.resolve("blocker")).resolve("n1");

    assertThatThrownBy(() -> Preflight.checkDataDir(dir))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("--data-dir: cannot write to '" + dir + "': ");
  }

  @Test
  void aLogFileThatCannotBeWrittenIsReported() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("n1.log"));

    assertThatThrownBy(() -> Preflight.checkLogFile(dir))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("--log-file: cannot write to '" + dir + "': ");
  }
}

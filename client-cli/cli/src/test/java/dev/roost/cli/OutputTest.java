package dev.roost.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.roost.proto.KvEntry;
import dev.roost.proto.KvPage;
import dev.roost.proto.Post;
import dev.roost.proto.PostPage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What the CLI shows people of data other users wrote. */
class OutputTest {
  private final StringWriter printed = new StringWriter();
  private final Output table = new Output(Output.Format.table, new PrintWriter(printed, true));

  @Test
  void tableShowsTerminalControlsOfKeysAndValuesEscaped() {
    String clearScreen = "\u001b[2J\u001b[H";
    String retitle = "\u001b]0;owned\u0007";
    table.entries(
        KvPage.newBuilder()
            .addEntries(
                KvEntry.newBuilder()
                    .setKey("k" + clearScreen)
                    .setValue(ByteString.copyFrom("v" + retitle + "\r\n", StandardCharsets.UTF_8))
                    .setVersion(1))
            .build());

    String shown = printed.toString();
    assertFalse(shown.chars().anyMatch(c -> c == 0x1b || c == 0x07 || c == '\r'), shown);
    String row = shown.lines().toList().get(1);
    assertTrue(row.startsWith("k\\u001b[2J\\u001b[H  v\\u001b]0;owned\\u0007\\r\\n  1 "), row);
  }

  @Test
  void postTextKeepsPrintableUnicodeButNotBidiOverrides() {
    table.posts(
        PostPage.newBuilder()
            .addPosts(
                Post.newBuilder().setId(7).setAuthor("eve").setText("héllo 👨‍👩‍👧 \u202Egnp.exe"))
            .build());

    String row = printed.toString().lines().toList().get(1);
    assertTrue(row.endsWith("eve     héllo 👨‍👩‍👧 \\u202egnp.exe"), row);
  }

  @Test
  void oneLineResultsAreEscapedToo() {
    table.result(table.object(), "deleted a\u009bb");
    assertEquals("deleted a\\u009bb" + System.lineSeparator(), printed.toString());
  }

  @Test
  void textWithNothingToEscapeIsTheSameString() {
    String plain = "plain text, ünïcödé";
    assertSame(plain, Output.printable(plain));
  }
}

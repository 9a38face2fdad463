package dev.roost.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roost.proto.Post;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PostAuditTest {
  private static Post post(long id, String text) {
    return Post.newBuilder().setId(id).setAuthor("w").setText(text).build();
  }

  @Test
  void everyRuleHeldIsClean() {
    PostAudit audit =
        PostAudit.of(
            List.of(post(1, "a"), post(2, "b"), post(3, "u1")),
            Map.of("a", 1L, "b", PostAudit.ANY_ID),
            Set.of("u1", "u2"),
            Set.of("f"));
    assertThat(audit.clean()).as(audit.summary()).isTrue();
    assertThat(audit.acknowledged()).isEqualTo(2);
  }

  @Test
  void eachAnomalyIsNamed() {
    PostAudit audit =
        PostAudit.of(
            List.of(
                post(1, "a"), post(2, "u"), post(3, "u"), post(9, "b"), post(4, "f"), post(5, "x")),
            Map.of("a", 1L, "b", 2L, "gone", PostAudit.ANY_ID),
            Set.of("u"),
            Set.of("f"));
    assertThat(audit.clean()).isFalse();
    assertThat(audit.lost()).containsExactly("gone");
    assertThat(audit.duplicated()).containsExactly("u");
    assertThat(audit.wrongId()).containsExactly("b");
    assertThat(audit.failedButPresent()).containsExactly("f");
    assertThat(audit.phantom()).containsExactly("x");
    assertThat(audit.summary()).contains("1 lost", "1 duplicated", "1 never sent");
  }
}

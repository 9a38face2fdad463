package dev.roost.testkit;

import dev.roost.proto.Post;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The exactly-once check on posts, shared by the demo, the failover benchmark and the failover
 * tests: reads back what writers posted (each text unique) and compares it with what each writer
 * was told.
 *
 * <ul>
 *   <li>an acknowledged write is present exactly once, with the id it was acknowledged with;
 *   <li>a write whose outcome was unknown is present at most once;
 *   <li>a write that definitely failed is absent;
 *   <li>nothing is present that no writer sent.
 * </ul>
 *
 * @param acknowledged how many acknowledged writes were checked
 * @param lost acknowledged texts that are absent
 * @param duplicated texts present more than once
 * @param wrongId acknowledged texts present once but under another post id than acknowledged
 * @param failedButPresent texts of definitely failed writes that are present
 * @param phantom texts present that no writer sent
 */
public record PostAudit(
    int acknowledged,
    List<String> lost,
    List<String> duplicated,
    List<String> wrongId,
    List<String> failedButPresent,
    List<String> phantom) {

  /** Marks an acknowledged write whose post id the writer did not keep. */
  public static final long ANY_ID = -1;

  /**
   * Audits {@code posts} (everything read back) against the writers' outcomes.
   *
   * @param acknowledged text to the post id it was acknowledged with, or {@link #ANY_ID}
   * @param unknown texts whose outcome the writer could not know
   * @param failed texts whose write definitely failed
   */
  public static PostAudit of(
      Collection<Post> posts,
      Map<String, Long> acknowledged,
      Set<String> unknown,
      Set<String> failed) {
    Map<String, List<Long>> copies = new HashMap<>();
    for (Post p : posts) {
      copies.computeIfAbsent(p.getText(), t -> new ArrayList<>()).add(p.getId());
    }
    List<String> lost = new ArrayList<>();
    List<String> wrongId = new ArrayList<>();
    acknowledged.forEach(
        (text, id) -> {
          List<Long> ids = copies.get(text);
          if (ids == null) {
            lost.add(text);
          } else if (ids.size() == 1 && id != ANY_ID && ids.get(0) != id.longValue()) {
            wrongId.add(text);
          }
        });
    List<String> duplicated =
        copies.entrySet().stream()
            .filter(e -> e.getValue().size() > 1)
            .map(Map.Entry::getKey)
            .toList();
    List<String> failedButPresent = failed.stream().filter(copies::containsKey).toList();
    List<String> phantom =
        copies.keySet().stream()
            .filter(
                t -> !acknowledged.containsKey(t) && !unknown.contains(t) && !failed.contains(t))
            .toList();
    return new PostAudit(acknowledged.size(), lost, duplicated, wrongId, failedButPresent, phantom);
  }

  /** {@link #of(Collection, Map, Set, Set)} for writers that kept no post ids. */
  public static PostAudit of(
      Collection<Post> posts, Set<String> acknowledged, Set<String> unknown, Set<String> failed) {
    Map<String, Long> anyId = new HashMap<>();
    acknowledged.forEach(text -> anyId.put(text, ANY_ID));
    return of(posts, anyId, unknown, failed);
  }

  /** Whether every rule held. */
  public boolean clean() {
    return lost.isEmpty()
        && duplicated.isEmpty()
        && wrongId.isEmpty()
        && failedButPresent.isEmpty()
        && phantom.isEmpty();
  }

  /** One line for people: the counts of each kind of anomaly, with a few examples. */
  public String summary() {
    return acknowledged
        + " acknowledged, "
        + lost.size()
        + " lost, "
        + duplicated.size()
        + " duplicated, "
        + wrongId.size()
        + " with another id, "
        + failedButPresent.size()
        + " failed but present, "
        + phantom.size()
        + " never sent"
        + (clean() ? "" : " (e.g. " + examples() + ")");
  }

  private String examples() {
    List<String> all = new ArrayList<>();
    for (List<String> l : List.of(lost, duplicated, wrongId, failedButPresent, phantom)) {
      all.addAll(l.subList(0, Math.min(3, l.size())));
    }
    return String.join(", ", all.subList(0, Math.min(5, all.size())));
  }
}

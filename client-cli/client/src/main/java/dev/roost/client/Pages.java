package dev.roost.client;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Follows page tokens lazily: the next page is read only when the stream reaches it, so a caller
 * that stops early reads no more than it needs.
 */
final class Pages {
  private Pages() {}

  /**
   * The items of every page, in order.
   *
   * @param fetch reads the page at a token ("" for the first)
   * @param items a page's items
   * @param next a page's next-page token, "" on the last page
   */
  static <P, T> Stream<T> stream(
      Function<String, P> fetch, Function<P, List<T>> items, Function<P, String> next) {
    Iterator<T> iterator =
        new Iterator<>() {
          private Iterator<T> current = List.<T>of().iterator();
          private String token = "";
          private boolean last;

          @Override
          public boolean hasNext() {
            while (!current.hasNext() && !last) {
              P page = fetch.apply(token);
              current = items.apply(page).iterator();
              token = next.apply(page);
              last = token.isEmpty();
            }
            return current.hasNext();
          }

          @Override
          public T next() {
            if (!hasNext()) {
              throw new NoSuchElementException();
            }
            return current.next();
          }
        };
    return StreamSupport.stream(
        Spliterators.spliteratorUnknownSize(iterator, Spliterator.ORDERED | Spliterator.NONNULL),
        false);
  }
}

package io.pekkosocket.api;

import io.pekkosocket.wire.Push;
import java.util.List;

/**
 * The fields of an API call's body, read the way the original Go services read them: a value of the wrong type is
 * an error (HTTP 400) thrown by the reader; absent and {@code null} fields read as below.
 */
public interface Body {
  /** A string field; "" when absent. */
  String string(String name);

  /** An array of strings; null when absent. */
  List<String> strings(String name);

  /** An integer field; {@code absent} when absent. */
  long integer(String name, long absent);

  /** The push fields: {@code sendUserId}, {@code code}, {@code msg}, {@code data}. */
  Push push();

  /**
   * A batch's {@code commands}: each element's own body, or null for an element that is not an object (the command
   * fails alone). Null when absent; a value that is not an array is a 400.
   */
  List<Body> commands();
}

package io.pekkosocket.wire;

/**
 * The {@code data} of a push, as the caller gave it. A JSON string stays a string ({@link Text}); any other JSON
 * value is forwarded as compact JSON text ({@link Raw}). Both are plain strings, so the record is serialisable.
 */
public sealed interface Payload {
  record Text(String value) implements Payload {}

  record Raw(String json) implements Payload {}

  Payload EMPTY = new Text("");
}

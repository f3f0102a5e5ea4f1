package io.pekkosocket.ops;

/**
 * A fault-injection point for supervision tests: actors call {@link #check} where a bug could throw. The server
 * runs with {@link #NONE}; only tests pass an implementation that throws.
 */
public interface Faults {
  /** Throws to simulate a failure at {@code point} ("system", "group") for {@code key} (a systemId). */
  void check(String point, String key);

  Faults NONE = (point, key) -> { };
}

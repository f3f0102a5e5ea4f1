package io.pekkosocket.api;

/** A request whose body does not have the shape its operation needs as a whole: answered HTTP 400 with the message. */
public final class Malformed extends RuntimeException {
  Malformed(String message) {
    super(message, null, false, false);
  }
}

package io.pekkosocket.actors;

import java.time.Duration;

/**
 * When an API command stops being worth running: the route answers its caller 503 from then on, so the actor that
 * would run the command checks its deadline first and, once it has passed, answers "server busy" and does nothing
 * (a caller told 503 can retry without its send being delivered twice). It is a point of this JVM's
 * {@link System#nanoTime()}; a command sent to another node would carry the time left instead.
 */
public record Deadline(long nanoTime) {

  /** The deadline {@code timeout} from now. */
  public static Deadline after(Duration timeout) {
    return new Deadline(System.nanoTime() + timeout.toNanos());
  }

  public boolean passed() {
    return System.nanoTime() - nanoTime > 0;
  }
}

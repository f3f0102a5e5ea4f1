package io.pekkosocket.actors;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An API command's deadline, and the one decision between the route and the actor about whether the command runs.
 * Exactly one of them wins: the actor that would run the command starts it ({@link #passed()} returns false), or
 * the route gives it up at the deadline ({@link #abandon()} returns true) and answers its caller 503. A command
 * that was given up, or reaches its actor after the deadline, never runs; a command that started is always waited
 * for. So a caller answered 503 can retry without its send being delivered twice, whatever the load.
 *
 * <p>The time is a point of this JVM's {@link System#nanoTime()}; a command sent to another node would carry the
 * time left instead, and the decision would stay on the node that runs it.
 */
public final class Deadline {
  private static final int OPEN = 0;
  private static final int STARTED = 1;
  private static final int ABANDONED = 2;

  private final long nanoTime;
  private final AtomicInteger state = new AtomicInteger(OPEN);

  /** A deadline at {@code nanoTime} ({@link System#nanoTime()} scale). */
  public Deadline(long nanoTime) {
    this.nanoTime = nanoTime;
  }

  /** The deadline {@code timeout} from now. */
  public static Deadline after(Duration timeout) {
    return new Deadline(System.nanoTime() + timeout.toNanos());
  }

  /** Nanoseconds until the deadline (negative once it has passed). Decides nothing. */
  public long remainingNanos() {
    return nanoTime - System.nanoTime();
  }

  /**
   * The actor that runs the command asks this first. True: the command must not run (the route has given it up, or
   * the deadline has passed, which gives it up now); answer busy. False: the command is started from now on (or was
   * already), and its caller waits for its answer.
   */
  public boolean passed() {
    if (state.get() == STARTED) return false;
    if (System.nanoTime() - nanoTime > 0) state.compareAndSet(OPEN, ABANDONED);
    return !state.compareAndSet(OPEN, STARTED) && state.get() != STARTED;
  }

  /** For an actor that only forwards the command: true when it has been given up. Does not start it. */
  public boolean abandoned() {
    int s = state.get();
    return s == ABANDONED || (s == OPEN && System.nanoTime() - nanoTime > 0);
  }

  /** The route, at the deadline: gives the command up unless it has started. True when it is given up. */
  public boolean abandon() {
    return state.compareAndSet(OPEN, ABANDONED) || state.get() == ABANDONED;
  }

  /** The command has started (it will run to its end whatever the route does). */
  public boolean started() {
    return state.get() == STARTED;
  }
}

package io.pekkosocket.actors;

import io.pekkosocket.auth.ResumeTokens;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Session resumption, node-wide (PROTOCOL.md "Resumption"): the resume tokens, how long a lost session waits and
 * how many frames it keeps for a replay, and the count of sessions waiting now, bounded by
 * {@code socket.limits.detached-sessions} so that a reconnect storm cannot grow memory without bound. One per node,
 * shared by every system's ClientActors.
 */
public final class Sessions {
  private final ResumeTokens tokens;
  private final Duration window;
  private final int keepFrames;
  private final int maxDetached;
  private final AtomicInteger detached = new AtomicInteger();

  public Sessions(ResumeTokens tokens, Duration window, int keepFrames, int maxDetached) {
    this.tokens = tokens;
    this.window = window;
    this.keepFrames = keepFrames;
    this.maxDetached = maxDetached;
  }

  public ResumeTokens tokens() {
    return tokens;
  }

  Duration window() {
    return window;
  }

  int keepFrames() {
    return keepFrames;
  }

  /** A lost session asks to wait for its client; false when the node holds as many as it may already. */
  boolean tryDetach() {
    while (true) {
      int n = detached.get();
      if (n >= maxDetached) return false;
      if (detached.compareAndSet(n, n + 1)) return true;
    }
  }

  /** A waiting session was resumed or ended. */
  void attachedOrEnded() {
    detached.decrementAndGet();
  }

  /** Sessions waiting to be resumed now (metrics, tests). */
  public int detached() {
    return detached.get();
  }
}

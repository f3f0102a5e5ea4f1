package io.pekkosocket.http;

/**
 * A token bucket: at most {@code perSecond} acquisitions per second on average, bursts up to one second's worth.
 * Thread-safe; the critical section is a few arithmetic operations. One instance per server.
 */
final class RateLimiter {
  private final double perNano;
  private final double capacity;
  private double tokens;
  private long last;

  RateLimiter(int perSecond) {
    this.capacity = Math.max(1, perSecond);
    this.perNano = perSecond / 1e9;
    this.tokens = capacity;
    this.last = System.nanoTime();
  }

  synchronized boolean tryAcquire() {
    long now = System.nanoTime();
    tokens = Math.min(capacity, tokens + (now - last) * perNano);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }

  /** Returns one acquisition that turned out not to need the budget. */
  synchronized void giveBack() {
    tokens = Math.min(capacity, tokens + 1);
  }
}

package io.pekkosocket;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission control of the HTTP API: each registered system has a bounded number of commands in flight on this
 * node ({@code socket.limits.commands-in-flight-per-system}); the route takes permits before it asks and gives
 * them back when the answer (or its timeout) comes, and answers 503 at once when none is left. Counters exist only
 * for registered systems (the {@link Guardian} adds them), so unknown systemIds cannot grow the map. Thread-safe;
 * one instance per server.
 */
public final class Admission {

  /** The commands of one system in flight now, against the limit. */
  public static final class InFlight {
    private final int limit;
    private final AtomicInteger count = new AtomicInteger();

    InFlight(int limit) {
      this.limit = limit;
    }

    /** Takes {@code n} permits (a batch of n commands counts n), or none and returns false when they do not fit. */
    public boolean tryAcquire(int n) {
      if (limit <= 0) return true;
      while (true) {
        int now = count.get();
        if (now + n > limit) return false;
        if (count.compareAndSet(now, now + n)) return true;
      }
    }

    public void release(int n) {
      if (limit > 0) count.addAndGet(-n);
    }

    /** Permits taken now (tests, metrics). */
    public int inFlight() {
      return count.get();
    }
  }

  private final int limit;
  private final ConcurrentHashMap<String, InFlight> systems = new ConcurrentHashMap<>();

  public Admission(int limitPerSystem) {
    this.limit = limitPerSystem;
  }

  /** The counter of a registered system; null when the system is not registered (the call is refused anyway). */
  public InFlight of(String systemId) {
    return systems.get(systemId);
  }

  /** Called by the Guardian for every registered system, before the system is visible to the API. */
  void registered(String systemId) {
    systems.putIfAbsent(systemId, new InFlight(limit));
  }
}

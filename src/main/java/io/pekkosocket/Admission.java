package io.pekkosocket;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Admission control of the HTTP API: each registered system has a bounded number of commands in flight on this
 * node ({@code socket.limits.commands-in-flight-per-system}), holding a bounded number of request-body bytes
 * ({@code socket.limits.bytes-in-flight-per-system}); the route takes permits before it asks and gives
 * them back when the answer (or its timeout) comes, and answers 503 at once when none is left. Counters exist only
 * for registered systems (the {@link Guardian} adds them), so unknown systemIds cannot grow the map. Thread-safe;
 * one instance per server.
 */
public final class Admission {

  /** The commands of one system in flight now, against the limit. */
  public static final class InFlight {
    private final int limit;
    private final long bytesLimit;
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicLong bytes = new AtomicLong();

    InFlight(int limit, long bytesLimit) {
      this.limit = limit;
      this.bytesLimit = bytesLimit;
    }

    /** Takes {@code n} permits (a batch of n commands counts n), or none and returns false when they do not fit. */
    public boolean tryAcquire(int n) {
      return tryAcquire(n, 0);
    }

    /**
     * Takes {@code n} command permits and {@code size} bytes of request bodies, or nothing and returns false when
     * either does not fit: what a system's in-flight commands hold in memory is bounded too, not only their number.
     */
    public boolean tryAcquire(int n, long size) {
      if (limit > 0) {
        while (true) {
          int now = count.get();
          if (now + n > limit) return false;
          if (count.compareAndSet(now, now + n)) break;
        }
      }
      if (bytesLimit > 0) {
        while (true) {
          long now = bytes.get();
          if (now + size > bytesLimit) {
            if (limit > 0) count.addAndGet(-n);
            return false;
          }
          if (bytes.compareAndSet(now, now + size)) break;
        }
      }
      return true;
    }

    public void release(int n) {
      release(n, 0);
    }

    public void release(int n, long size) {
      if (limit > 0) count.addAndGet(-n);
      if (bytesLimit > 0) bytes.addAndGet(-size);
    }

    /** Bytes of request bodies in flight now (tests, metrics). */
    public long bytesInFlight() {
      return bytes.get();
    }

    /** Permits taken now (tests, metrics). */
    public int inFlight() {
      return count.get();
    }
  }

  private final int limit;
  private final long bytesLimit;
  private final ConcurrentHashMap<String, InFlight> systems = new ConcurrentHashMap<>();

  public Admission(int limitPerSystem) {
    this(limitPerSystem, 0);
  }

  /** {@code bytesPerSystem}: request-body bytes of one system's commands in flight; 0 = unlimited. */
  public Admission(int limitPerSystem, long bytesPerSystem) {
    this.limit = limitPerSystem;
    this.bytesLimit = bytesPerSystem;
  }

  /** The counter of a registered system; null when the system is not registered (the call is refused anyway). */
  public InFlight of(String systemId) {
    return systems.get(systemId);
  }

  /** Called by the Guardian for every registered system, before the system is visible to the API. */
  void registered(String systemId) {
    systems.putIfAbsent(systemId, new InFlight(limit, bytesLimit));
  }
}

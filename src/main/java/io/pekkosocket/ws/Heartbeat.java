package io.pekkosocket.ws;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.actor.AbstractExtensionId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's heartbeat: one scheduled task pings every WebSocket every {@code ping-interval} and finds those that
 * have been silent for {@code idle-timeout}, instead of a ping timer and an idle timer in every connection.
 *
 * <p>A {@link Ticker} keeps the live connections in a ring of slots, one slot per tick of the ping interval. Each
 * connection gets a fixed slot when its stage starts, so it is pinged once a revolution (every ping interval, give
 * or take a tick); new connections are dealt round-robin over the half of the ring the ticker has just passed, so
 * a connection's first ping comes between half a ping interval and one ping interval after it opened, and a burst
 * of connections is spread over the ring instead of being pinged all at once. Each tick the ticker asks the
 * connections of the due slot to ping, back to back from one dispatcher thread; each request is one wake-up of
 * that connection's stage ({@link Member#requestPing}). About once a second (a tenth of the idle timeout when that
 * is shorter) it reads every connection's last inbound activity and asks the silent ones to check for themselves
 * and close ({@link Member#requestIdleCheck}). The connection decides; the ticker only asks.
 *
 * <p>One ticker runs per ping interval and idle timeout in use (a server has one; tests with stages of their own
 * may add others), started on first use, on the actor system's scheduler and default dispatcher. It never blocks.
 */
public final class Heartbeat implements Extension {
  private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

  /** The extension's id: one {@code Heartbeat} per actor system. */
  public static final Id ID = new Id();

  public static final class Id extends AbstractExtensionId<Heartbeat> {
    private Id() {}

    @Override
    public Heartbeat createExtension(ExtendedActorSystem system) {
      return new Heartbeat(system);
    }
  }

  /** The heartbeat of {@code system}'s node. */
  public static Heartbeat get(ClassicActorSystemProvider system) {
    return ID.get(system);
  }

  /** What the ticker knows of a connection. Implemented by the connection's stage; every method must be cheap. */
  interface Member {
    /** {@code System.nanoTime()} of the last frame from the peer (or of the start); read from the ticker's thread. */
    long lastInbound();

    /** The connection's slot is due: it should send a ping. Wakes the connection; never blocks. */
    void requestPing();

    /** The connection looks silent for the idle timeout: it should check and close. Never blocks. */
    void requestIdleCheck();
  }

  private record Key(Duration pingInterval, Duration idleTimeout) {}

  private final ActorSystem system;
  private final ConcurrentHashMap<Key, Ticker> tickers = new ConcurrentHashMap<>();

  private Heartbeat(ActorSystem system) {
    this.system = system;
  }

  /** The ticker for these settings, started on first use. */
  Ticker ticker(Duration pingInterval, Duration idleTimeout) {
    return tickers.computeIfAbsent(new Key(pingInterval, idleTimeout), k -> {
      Ticker t = new Ticker(pingInterval, idleTimeout, System.nanoTime());
      Duration tick = Duration.ofNanos(t.tickNanos());
      system.scheduler().scheduleAtFixedRate(tick, tick, t::run, system.dispatcher());
      return t;
    });
  }

  /** Connections registered now, over every ticker: those whose stage has started and not yet stopped. */
  public int registered() {
    int n = 0;
    for (Ticker t : tickers.values()) n += t.registered();
    return n;
  }

  /**
   * The ring of one ping interval. Registration and unregistration come from the connections' threads; {@link #tick}
   * from the scheduled task only (Pekko runs a fixed-rate task's next run after the previous one has returned).
   * Which slots are due is read from the clock, not counted in runs, so a late run catches up (each slot at most once
   * per revolution) and the pings keep the ping interval whatever the scheduler's resolution.
   */
  static final class Ticker {
    static final long MAX_TICK_NANOS = 100_000_000L; // 100 ms
    static final long MIN_TICK_NANOS = 10_000_000L; // Pekko's scheduler ticks every 10 ms
    static final int MAX_SLOTS = 1024;
    static final long MAX_SWEEP_NANOS = 1_000_000_000L; // 1 s

    private final int slots;
    private final long tickNanos;
    private final long idleNanos;
    private final long sweepNanos;
    private final long epoch;
    private final Set<Member>[] ring;
    private final AtomicInteger members = new AtomicInteger();
    /** Deals new connections round-robin over half the ring. */
    private final AtomicInteger dealt = new AtomicInteger();
    /** The last tick whose slot has been pinged (ticks counted from {@code epoch}). */
    private volatile long visited;
    private long lastSweep;

    @SuppressWarnings("unchecked")
    Ticker(Duration pingInterval, Duration idleTimeout, long now) {
      long ping = pingInterval.toNanos();
      // a tick of min(100 ms, ping/10), at least the scheduler's 10 ms, dividing the interval exactly
      long target = Math.max(MIN_TICK_NANOS, Math.min(MAX_TICK_NANOS, ping / 10));
      this.slots = (int) Math.max(1, Math.min(MAX_SLOTS, Math.round((double) ping / target)));
      this.tickNanos = ping / slots;
      this.idleNanos = idleTimeout.toNanos();
      this.sweepNanos = Math.min(MAX_SWEEP_NANOS, idleNanos / 10);
      this.epoch = now;
      this.lastSweep = now;
      this.ring = new Set[slots];
      for (int i = 0; i < slots; i++) ring[i] = ConcurrentHashMap.newKeySet();
    }

    long tickNanos() {
      return tickNanos;
    }

    int slots() {
      return slots;
    }

    int registered() {
      return members.get();
    }

    /**
     * Gives {@code m} its slot and returns it (to {@link #unregister} with). The slot is one the ticker will reach
     * in half a revolution to a whole one: the first ping comes no later than one ping interval after the start,
     * as every later one does, and never within the first half interval.
     */
    int register(Member m) {
      int half = Math.max(1, slots / 2);
      int ahead = slots - 1 - Math.floorMod(dealt.getAndIncrement(), half); // reached in ahead + 1 ticks
      int slot = (int) Math.floorMod(visited + 1 + ahead, (long) slots);
      if (ring[slot].add(m)) members.incrementAndGet();
      return slot;
    }

    void unregister(Member m, int slot) {
      if (ring[slot].remove(m)) members.decrementAndGet();
    }

    /** The scheduled task: never throws, or the scheduler would stop running it. */
    void run() {
      try {
        tick(System.nanoTime());
      } catch (RuntimeException e) {
        log.error("heartbeat tick failed: {}", e.toString());
      }
    }

    /** Pings the slots due by {@code now} (after a stall: each slot once, never twice), then sweeps if due. */
    void tick(long now) {
      long due = (now - epoch) / tickNanos;
      long last = visited;
      for (long t = Math.max(last + 1, due - slots + 1); t <= due; t++) {
        for (Member m : ring[(int) (t % slots)]) m.requestPing();
      }
      if (due > last) visited = due;
      if (now - lastSweep >= sweepNanos) {
        lastSweep = now;
        sweep(now);
      }
    }

    /** Asks every connection silent for the idle timeout to check and close. */
    private void sweep(long now) {
      for (Set<Member> slot : ring) {
        for (Member m : slot) {
          if (now - m.lastInbound() >= idleNanos) m.requestIdleCheck();
        }
      }
    }
  }
}

package io.pekkosocket.ws;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The heartbeat's ring on a clock the test turns by hand: who is pinged when, who is asked to check for silence,
 * and who is forgotten. The stage's side (a ping written, 1001 on silence) is tested over real sockets in
 * {@code e2e.SharedHeartbeatTest} and {@code e2e.HeartbeatAndSlowConsumerTest}.
 */
class HeartbeatTickerTest {
  static final long MS = 1_000_000L;

  /** A connection as the ticker sees it; records when it was asked what. */
  static final class FakeMember implements Heartbeat.Member {
    volatile long lastInbound;
    final List<Long> pings = new ArrayList<>();
    final List<Long> idleChecks = new ArrayList<>();
    long now; // set by the test before each tick
    int slot; // the ticker's slot, from register

    FakeMember(long lastInbound) {
      this.lastInbound = lastInbound;
    }

    @Override
    public long lastInbound() {
      return lastInbound;
    }

    @Override
    public void requestPing() {
      pings.add(now);
    }

    @Override
    public void requestIdleCheck() {
      idleChecks.add(now);
    }
  }

  /** Turns the clock from {@code from} to {@code to} (inclusive) in steps, ticking at each. */
  static void run(Heartbeat.Ticker t, List<FakeMember> members, long from, long to, long step) {
    for (long now = from; now <= to; now += step) {
      for (FakeMember m : members) m.now = now;
      t.tick(now);
    }
  }

  static List<FakeMember> register(Heartbeat.Ticker t, int n, long now) {
    List<FakeMember> ms = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      FakeMember m = new FakeMember(now);
      m.slot = t.register(m);
      ms.add(m);
    }
    return ms;
  }

  @Test
  void theTickIsDerivedFromThePingInterval() {
    Heartbeat.Ticker ping25s = new Heartbeat.Ticker(Duration.ofSeconds(25), Duration.ofSeconds(60), 0);
    assertEquals(100 * MS, ping25s.tickNanos());
    assertEquals(250, ping25s.slots());
    Heartbeat.Ticker ping300ms = new Heartbeat.Ticker(Duration.ofMillis(300), Duration.ofSeconds(3), 0);
    assertEquals(30 * MS, ping300ms.tickNanos(), "a tenth of a short interval");
    assertEquals(10, ping300ms.slots());
    Heartbeat.Ticker ping50ms = new Heartbeat.Ticker(Duration.ofMillis(50), Duration.ofSeconds(1), 0);
    assertEquals(10 * MS, ping50ms.tickNanos(), "never below the scheduler's 10 ms");
    Heartbeat.Ticker ping1h = new Heartbeat.Ticker(Duration.ofHours(1), Duration.ofHours(2), 0);
    assertEquals(Heartbeat.Ticker.MAX_SLOTS, ping1h.slots(), "a long interval has a bounded ring");
    assertEquals(Duration.ofHours(1).toNanos(), ping1h.tickNanos() * ping1h.slots());
  }

  @Test
  void everyConnectionIsPingedOncePerIntervalFirstWithinOneInterval() {
    Heartbeat.Ticker t = new Heartbeat.Ticker(Duration.ofSeconds(1), Duration.ofHours(1), 0);
    long opened = 230 * MS; // between two ticks
    run(t, List.of(), 0, 200 * MS, 100 * MS);
    List<FakeMember> ms = register(t, 25, opened);
    run(t, ms, 300 * MS, 6_000 * MS, 100 * MS);
    for (FakeMember m : ms) {
      long first = m.pings.get(0) - opened;
      assertTrue(first >= 400 * MS && first <= 1_000 * MS, "first ping " + first / MS + " ms after the start");
      for (int i = 1; i < m.pings.size(); i++) {
        assertEquals(1_000 * MS, m.pings.get(i) - m.pings.get(i - 1), "one ping per interval, none doubled");
      }
      assertTrue(m.pings.size() >= 5, "pinged " + m.pings.size() + " times in 5.8 s");
    }
  }

  @Test
  void connectionsOpenedTogetherArePingedInDifferentTicks() {
    Heartbeat.Ticker t = new Heartbeat.Ticker(Duration.ofSeconds(1), Duration.ofHours(1), 0);
    List<FakeMember> ms = register(t, 50, 0);
    run(t, ms, 100 * MS, 1_000 * MS, 100 * MS);
    Map<Long, Integer> perTick = new TreeMap<>();
    for (FakeMember m : ms) {
      assertEquals(1, m.pings.size(), "one ping in the first interval");
      perTick.merge(m.pings.get(0), 1, Integer::sum);
    }
    // 10 slots, dealt over the half the ticker has just passed: 5 ticks of 10 pings, not one tick of 50
    assertEquals(5, perTick.size(), perTick.toString());
    perTick.values().forEach(n -> assertEquals(10, n, perTick.toString()));
  }

  @Test
  void aLateTickCatchesUpWithoutPingingAnyoneTwice() {
    Heartbeat.Ticker t = new Heartbeat.Ticker(Duration.ofSeconds(1), Duration.ofHours(1), 0);
    List<FakeMember> ms = register(t, 20, 0);
    run(t, ms, 100 * MS, 100 * MS, 100 * MS);
    for (FakeMember m : ms) m.now = 3_550 * MS; // the scheduler stalled for three and a half intervals
    t.tick(3_550 * MS);
    for (FakeMember m : ms) assertEquals(1, m.pings.size(), "each slot once after a stall, not once per lost turn");
    run(t, ms, 3_600 * MS, 4_550 * MS, 50 * MS);
    for (FakeMember m : ms) {
      List<Long> pings = m.pings;
      assertEquals(2, pings.size(), "then once in the next interval: " + pings);
      // slot k's turns are the ticks k, k + 10, …: 100 ms × k past each whole second
      assertEquals(m.slot * 100 * MS, pings.get(1) % (1_000 * MS), "back on its own slot's turn: " + pings);
    }
  }

  @Test
  void aSilentConnectionIsAskedToCheckOnceTheIdleTimeoutHasPassedAndNotBefore() {
    Duration idle = Duration.ofSeconds(3);
    Heartbeat.Ticker t = new Heartbeat.Ticker(Duration.ofSeconds(1), idle, 0);
    FakeMember silent = new FakeMember(0);
    FakeMember talking = new FakeMember(0);
    t.register(silent);
    t.register(talking);
    List<FakeMember> ms = List.of(silent, talking);
    for (long now = 100 * MS; now <= 5_000 * MS; now += 100 * MS) {
      talking.lastInbound = now - 500 * MS; // it answered a ping half a second ago
      for (FakeMember m : ms) m.now = now;
      t.tick(now);
    }
    assertTrue(talking.idleChecks.isEmpty(), "a connection that answers is left alone");
    assertFalse(silent.idleChecks.isEmpty(), "the silent one is asked");
    long firstAsked = silent.idleChecks.get(0);
    assertTrue(firstAsked >= idle.toNanos(), "not before the idle timeout: " + firstAsked / MS + " ms");
    // one sweep period (a tenth of the idle timeout, at most a second) and a tick after it, at the latest
    assertTrue(firstAsked <= idle.toNanos() + 300 * MS + 100 * MS, "asked at " + firstAsked / MS + " ms");
  }

  @Test
  void anUnregisteredConnectionIsForgottenAndNeverAskedAgain() {
    Heartbeat.Ticker t = new Heartbeat.Ticker(Duration.ofSeconds(1), Duration.ofSeconds(2), 0);
    List<FakeMember> ms = register(t, 30, 0);
    assertEquals(30, t.registered());
    for (FakeMember m : ms) t.unregister(m, m.slot);
    assertEquals(0, t.registered());
    t.unregister(ms.get(0), ms.get(0).slot); // a second unregister changes nothing
    assertEquals(0, t.registered());
    run(t, ms, 100 * MS, 5_000 * MS, 100 * MS);
    for (FakeMember m : ms) {
      assertTrue(m.pings.isEmpty() && m.idleChecks.isEmpty(), "asked after it was forgotten");
    }
  }
}

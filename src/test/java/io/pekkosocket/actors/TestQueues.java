package io.pekkosocket.actors;

import io.pekkosocket.ws.OutboundQueue;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import io.pekkosocket.ws.Frame;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;

/** Queues without a socket: the test reads what the actors queued, and sees close requests. */
final class TestQueues {
  static final class Recorded implements OutboundQueue.Wakeups {
    final AtomicInteger closedWith = new AtomicInteger(-1);

    @Override
    public void frameAvailable() {}

    @Override
    public void closeRequested(int code, String reason, boolean flush) {
      closedWith.set(code);
    }
  }

  /**
   * Wakeups that hold a producer: once {@link #arm armed}, the next wake-up (the queue going from empty to
   * non-empty) blocks the offering thread until {@link #release} (one shot). A test holds an actor mid-fan-out this
   * way, and must always release it (in a finally); a forgotten hold gives up after 30 s.
   */
  static final class Holding implements OutboundQueue.Wakeups {
    private final AtomicBoolean armed = new AtomicBoolean();
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    void arm() {
      armed.set(true);
    }

    /** Waits until a producer is held in this queue's wake-up. */
    void awaitHeld() throws InterruptedException {
      if (!held.await(30, TimeUnit.SECONDS)) throw new AssertionError("no producer reached the armed wake-up");
    }

    void release() {
      released.countDown();
    }

    @Override
    public void frameAvailable() {
      if (!armed.compareAndSet(true, false)) return;
      held.countDown();
      try {
        released.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void closeRequested(int code, String reason, boolean flush) {}
  }

  /** A client a system under test admitted; the test plays its socket. */
  record Connected(ActorRef<ClientActor.Command> client, OutboundQueue queue, int epoch) {
    /** Its socket ends with {@code code}, as the connection's stage reports it. */
    void disconnect(int code) {
      client.tell(new ClientActor.ConnectionClosed(epoch, code, false));
    }
  }

  /**
   * Connects {@code clientId} to {@code system} as a handshake does and attaches {@code socket} to the queue it gets:
   * when this returns, the client is in the system's index (its Registered came before the answer).
   */
  static Connected connect(ActorTestKit kit, ActorRef<SystemActor.Command> system, String clientId, String userId,
      OutboundQueue.Wakeups socket) {
    TestProbe<SystemActor.Admission> answer = kit.createTestProbe();
    system.tell(new SystemActor.Connect(clientId, userId, answer.getRef()));
    SystemActor.Admitted admitted = answer.expectMessageClass(SystemActor.Admitted.class);
    admitted.queue().attach(socket);
    admitted.client().tell(new ClientActor.Attached(admitted.epoch()));
    return new Connected(admitted.client(), admitted.queue(), admitted.epoch());
  }

  static Connected connect(ActorTestKit kit, ActorRef<SystemActor.Command> system, String clientId) {
    return connect(kit, system, clientId, "", new Recorded());
  }

  /** Resumption as the server sets it up by default (30 s window, 256 frames kept, 10,000 waiting sessions). */
  static io.pekkosocket.actors.Sessions sessions() {
    return new Sessions(new io.pekkosocket.auth.ResumeTokens(), java.time.Duration.ofSeconds(30), 256, 10_000);
  }

  /** A fresh SystemActor of a system of its own, as the Guardian starts one. */
  static ActorRef<SystemActor.Command> newSystem(ActorTestKit kit, io.pekkosocket.Settings settings) {
    return kit.spawn(SystemActor.create("s-" + java.util.UUID.randomUUID(), settings, sessions(),
        new io.pekkosocket.ops.Metrics(), io.pekkosocket.ops.Faults.NONE));
  }

  /** What the system holds now; handled after everything the test sent it before. */
  static SystemActor.Stats statsOf(ActorTestKit kit, ActorRef<SystemActor.Command> system) {
    TestProbe<SystemActor.Stats> stats = kit.createTestProbe();
    system.tell(new SystemActor.GetStats(stats.getRef()));
    return stats.receiveMessage();
  }

  /** A queue the test fills and reads itself, with {@code socket} attached. */
  static OutboundQueue queue(int maxFrames, OutboundQueue.Wakeups socket) {
    OutboundQueue q = new OutboundQueue(maxFrames, 4 * 1024 * 1024, io.pekkosocket.ws.FrameCounters.NONE);
    q.attach(socket);
    return q;
  }

  static OutboundQueue queue() {
    return queue(1024, new Recorded());
  }

  /** Every frame queued so far, as text. */
  static List<String> taken(OutboundQueue o) {
    List<String> out = new ArrayList<>();
    for (Frame f = o.take(); f != null; f = o.take()) {
      out.add(f.text());
    }
    return out;
  }

  private TestQueues() {}
}

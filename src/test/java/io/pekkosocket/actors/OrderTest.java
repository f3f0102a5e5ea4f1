package io.pekkosocket.actors;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.ConfigFactory;
import io.pekkosocket.Settings;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.Payload;
import io.pekkosocket.wire.Push;
import io.pekkosocket.ws.Outbox;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * PROTOCOL.md "Order", across sources (audit M5): per connection, frames arrive in the order the server accepted
 * them. A member's outbox that holds the group's actor in its wake-up makes the races
 * deterministic: the group is held mid-fan-out (after that member, before the next) while the test acts.
 */
class OrderTest {
  static final ActorTestKit kit = ActorTestKit.create();
  static final Settings settings = Settings.from(ConfigFactory.parseResources("socket-defaults.conf").resolve());
  static final Deadline LATER = Deadline.after(java.time.Duration.ofHours(1));

  @AfterAll
  static void cleanup() {
    kit.shutdownTestKit();
  }

  private final TestProbe<ApiResult> reply = kit.createTestProbe();
  private final TestProbe<SystemActor.Stats> stats = kit.createTestProbe();

  private ActorRef<SystemActor.Command> newSystem() {
    return kit.spawn(SystemActor.create("s-" + UUID.randomUUID(), settings, new io.pekkosocket.ops.Metrics(),
        io.pekkosocket.ops.Faults.NONE));
  }

  private SystemActor.Stats statsOf(ActorRef<SystemActor.Command> s) {
    s.tell(new SystemActor.GetStats(stats.getRef()));
    return stats.receiveMessage();
  }

  private ApiResult call(ActorRef<SystemActor.Command> s, SystemActor.Command c) {
    s.tell(c);
    return reply.receiveMessage();
  }

  static Push push(String data) {
    return new Push("", 0, "", new Payload.Text(data));
  }

  /** A frame as a short label: the push's data, "1001 <clientId>", "1002 <clientId>", or "welcome <clientId>". */
  static String label(String frame) {
    for (String code : List.of("1001", "1002")) {
      if (frame.contains("\"code\":" + code)) {
        int at = frame.indexOf("clientId\\\":\\\"") + "clientId\\\":\\\"".length();
        return code + " " + frame.substring(at, frame.indexOf('\\', at));
      }
    }
    if (frame.startsWith("{\"code\":0,\"msg\":\"success\",\"data\":{\"clientId\":")) {
      int at = frame.indexOf("clientId\":\"") + "clientId\":\"".length();
      return "welcome " + frame.substring(at, frame.indexOf('"', at));
    }
    int at = frame.indexOf("\"data\":\"") + "\"data\":\"".length();
    return frame.substring(at, frame.indexOf('"', at));
  }

  static List<String> labels(Outbox o) {
    List<String> out = new ArrayList<>();
    for (String f : TestOutboxes.taken(o)) out.add(label(f));
    return out;
  }

  /** Asks the system for its stats through the backend, so that it is handled after what the backend sent before. */
  record Barrier(ActorRef<SystemActor.Stats> replyTo) {}

  /**
   * M5: a bind is answered only after the group has queued its 1001s, so a backend that pushes to the client as soon
   * as the bind is answered gets its push behind the 1001. The group is held while it offers a's 1001 to m (before
   * a); the "backend" pushes X to a the moment the bind's answer reaches it. Before the fix the bind was answered
   * before the group ran, and a got welcome, X, 1001.
   */
  @Test
  void aPushSentOnceABindIsAnsweredArrivesAfterTheBindsOwn1001() throws Exception {
    ActorRef<SystemActor.Command> s = newSystem();
    TestOutboxes.Holding hold = new TestOutboxes.Holding();
    Outbox m = TestOutboxes.outbox("m", hold);
    Outbox a = TestOutboxes.outbox("a");
    s.tell(new SystemActor.Connect("m", "", m));
    s.tell(new SystemActor.Connect("a", "", a));
    call(s, new SystemActor.Bind("m", "g", "um", "", LATER, reply.getRef()));
    call(s, new SystemActor.SendToGroup("g", push("p0"), LATER, reply.getRef())); // answered by g: m's 1001 is queued
    assertEquals(List.of("welcome m", "1001 m", "p0"), labels(m));

    TestProbe<ApiResult> bindAnswer = kit.createTestProbe();
    TestProbe<ApiResult> xAnswer = kit.createTestProbe();
    ActorRef<Object> backend = kit.spawn(Behaviors.receiveMessage(msg -> {
      if (msg instanceof ApiResult r) { // the bind is answered: push X to a at once
        bindAnswer.getRef().tell(r);
        s.tell(new SystemActor.SendToClient("a", push("x"), LATER, xAnswer.getRef()));
      } else if (msg instanceof Barrier b) {
        s.tell(new SystemActor.GetStats(b.replyTo()));
      }
      return Behaviors.same();
    }));

    hold.arm();
    s.tell(new SystemActor.Bind("a", "g", "ua", "", LATER, backend.narrow()));
    try {
      hold.awaitHeld(); // g is fanning out a's 1001: m has it, a not yet
      // whatever the backend sent the system before this barrier (X, if the bind had been answered) is handled
      backend.tell(new Barrier(stats.getRef()));
      stats.receiveMessage();
    } finally {
      hold.release();
    }
    ApiResult bound = bindAnswer.receiveMessage();
    assertEquals(0, bound.code());
    assertEquals(List.of(), bound.data(), "the bind's answer is unchanged: []");
    assertTrue(((ApiResult.ClientDelivery) xAnswer.receiveMessage().data()).delivered());
    call(s, new SystemActor.SendToGroup("g", push("p1"), LATER, reply.getRef())); // g has handled all before it
    assertEquals(List.of("welcome a", "1001 a", "x", "p1"), labels(a));
  }
}

package io.pekkosocket.actors;

import io.pekkosocket.wire.CloseCode;
import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.ws.OutboundQueue;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class ClientActorTest {
  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void cleanup() {
    kit.shutdownTestKit();
  }

  @Test
  void closeAsksTheConnectionToCloseWithTheCode() {
    TestQueues.Recorded r = new TestQueues.Recorded();
    OutboundQueue o = TestQueues.queue("c", r, 16);
    ActorRef<ClientActor.Command> c = kit.spawn(ClientActor.create("c", o));
    TestProbe<Object> probe = kit.createTestProbe();
    c.tell(new ClientActor.Close(CloseCode.NORMAL, "closed by server"));
    probe.awaitAssert(() -> {
      assertEquals(CloseCode.NORMAL, r.closedWith.get());
      return null;
    });
    assertTrue(o.isClosed());
    assertFalse(o.offer(io.pekkosocket.ws.Frame.text("{}")), "a closing queue refuses frames");
  }

  @Test
  void stopsWhenTheConnectionEnds() {
    ActorRef<ClientActor.Command> c = kit.spawn(ClientActor.create("c", TestQueues.queue("c")));
    TestProbe<Object> probe = kit.createTestProbe();
    c.tell(new ClientActor.ConnectionClosed(CloseCode.ABNORMAL));
    probe.expectTerminated(c);
  }

  @Test
  void stoppedWithItsSocketOpenItClosesItWith1011() {
    TestQueues.Recorded r = new TestQueues.Recorded();
    OutboundQueue o = TestQueues.queue("c", r, 16);
    ActorRef<ClientActor.Command> c = kit.spawn(ClientActor.create("c", o));
    TestProbe<Object> probe = kit.createTestProbe();
    kit.stop(c); // as when its SystemActor is lost
    probe.awaitAssert(() -> {
      assertEquals(CloseCode.INTERNAL_ERROR, r.closedWith.get());
      return null;
    });
  }
}

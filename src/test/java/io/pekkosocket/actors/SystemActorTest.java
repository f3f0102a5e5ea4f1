package io.pekkosocket.actors;

import io.pekkosocket.wire.CloseCode;
import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.ConfigFactory;
import io.pekkosocket.Settings;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.Payload;
import io.pekkosocket.wire.Push;
import io.pekkosocket.ws.OutboundQueue;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class SystemActorTest {
  static final ActorTestKit kit = ActorTestKit.create();
  static final Settings settings = Settings.from(ConfigFactory.parseMap(Map.of("socket.limits.groups-per-client", 2))
      .withFallback(ConfigFactory.parseResources("socket-defaults.conf")).resolve());
  static final Push PUSH = new Push("u", 1, "m", new Payload.Text("d"));
  static final Deadline LATER = Deadline.after(java.time.Duration.ofHours(1));
  static final Deadline PASSED = new Deadline(System.nanoTime() - 1);

  @AfterAll
  static void cleanup() {
    kit.shutdownTestKit();
  }

  private final TestProbe<ApiResult<?>> reply = kit.createTestProbe();

  private ActorRef<SystemActor.Command> newSystem() {
    return TestQueues.newSystem(kit, settings);
  }

  private SystemActor.Stats statsOf(ActorRef<SystemActor.Command> s) {
    return TestQueues.statsOf(kit, s);
  }

  /** Sends the command made with a reply ref of its own type, and returns its typed answer. */
  private <R> ApiResult<R> ask(ActorRef<SystemActor.Command> s, Class<R> reply,
      java.util.function.Function<ActorRef<ApiResult<R>>, SystemActor.Command> command) {
    TestProbe<ApiResult<R>> probe = kit.createTestProbe();
    s.tell(command.apply(probe.getRef()));
    return probe.receiveMessage();
  }

  private ApiResult<?> call(ActorRef<SystemActor.Command> s, SystemActor.Command c) {
    s.tell(c);
    return reply.receiveMessage();
  }

  @Test
  void connectRegistersTheClientBeforeQueueingTheWelcome() {
    ActorRef<SystemActor.Command> s = newSystem();
    TestQueues.Connected oc = TestQueues.connect(kit, s, "n1.a");
    OutboundQueue o = oc.queue();
    assertTrue(ask(s, ApiResult.ClientDelivery.class, to -> new SystemActor.SendToClient("n1.a", PUSH, LATER, to))
        .data().delivered());
    List<String> frames = TestQueues.taken(o);
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"clientId\":\"n1.a\"}}\n", frames.get(0));
    assertTrue(frames.get(1).contains("\"data\":\"d\""));
    assertEquals(new SystemActor.Stats(1, 0, 1, 0, 0), statsOf(s));
  }

  @Test
  void bindCreatesGroupsAndDisconnectRemovesEverything() {
    ActorRef<SystemActor.Command> s = newSystem();
    TestQueues.Connected ac = TestQueues.connect(kit, s, "a");
    OutboundQueue a = ac.queue();
    TestQueues.Connected bc = TestQueues.connect(kit, s, "b");
    OutboundQueue b = bc.queue();
    call(s, new SystemActor.Bind("a", "g", "ua", "", LATER, reply.getRef().narrow()));
    call(s, new SystemActor.Bind("b", "g", "ub", "", LATER, reply.getRef().narrow()));
    call(s, new SystemActor.Bind("b", "h", "ub", "", LATER, reply.getRef().narrow()));
    assertEquals(new SystemActor.Stats(2, 2, 2, 2, 3), statsOf(s));
    ApiResult<?> online = call(s, new SystemActor.GetOnlineList("g", LATER, reply.getRef().narrow()));
    assertEquals(new ApiResult.OnlineList(2, List.of("a", "b")), online.data());
    ApiResult<?> all = call(s, new SystemActor.GetAllGroups(LATER, reply.getRef().narrow()));
    assertEquals(new ApiResult.AllGroups(Map.of("g", List.of("a", "b"), "h", List.of("b"))), all.data());

    TestQueues.taken(a);
    bc.disconnect(1000);
    // await the condition: b's ClientActor stops, its groups are cleaned up, h (now empty) is gone
    TestProbe<Object> waiter = kit.createTestProbe();
    waiter.awaitAssert(() -> {
      assertEquals(new SystemActor.Stats(1, 1, 1, 1, 1), statsOf(s));
      return null;
    });
    // the group fans out b's 1002 on its own thread: a push through g, answered by g after b's Leave, orders it
    call(s, new SystemActor.SendToGroup("g", PUSH, LATER, reply.getRef().narrow()));
    List<String> atA = TestQueues.taken(a);
    assertEquals(2, atA.size(), "exactly one 1002 (for g), then the push: " + atA);
    assertTrue(atA.get(0).contains("\"code\":1002"));
  }

  @Test
  void groupsPerClientLimitIsEnforced() {
    ActorRef<SystemActor.Command> s = newSystem();
    TestQueues.connect(kit, s, "a");
    assertEquals(0, call(s, new SystemActor.Bind("a", "g1", "", "", LATER, reply.getRef().narrow())).code());
    assertEquals(0, call(s, new SystemActor.Bind("a", "g2", "", "", LATER, reply.getRef().narrow())).code());
    assertEquals(0, call(s, new SystemActor.Bind("a", "g2", "", "", LATER, reply.getRef().narrow())).code(), "rebind is fine");
    ApiResult<?> third = call(s, new SystemActor.Bind("a", "g3", "", "", LATER, reply.getRef().narrow()));
    assertEquals(-1, third.code());
    assertTrue(third.msg().contains("too many groups"));
  }

  @Test
  void sendToClientsAndSystemCountAcceptedQueues() {
    ActorRef<SystemActor.Command> s = newSystem();
    TestQueues.connect(kit, s, "a");
    TestQueues.connect(kit, s, "b");
    ApiResult.ClientsDelivery d = ask(s, ApiResult.ClientsDelivery.class,
        to -> new SystemActor.SendToClients(List.of("a", "b", "zz", "a"), PUSH, LATER, to)).data();
    assertEquals(2, d.delivered());
    assertEquals(List.of("a", "b", "zz"), List.copyOf(d.messageIds().keySet()));
    assertEquals(2, ask(s, ApiResult.FanOutDelivery.class, to -> new SystemActor.SendToSystem(PUSH, LATER, to))
        .data().delivered());
    assertEquals(0, ask(s, ApiResult.FanOutDelivery.class, to -> new SystemActor.SendToGroup("none", PUSH, LATER, to))
        .data().delivered());
  }

  @Test
  void drainClosesEveryConnectionAndSendsNoLeaveNotices() {
    ActorRef<SystemActor.Command> s = newSystem();
    TestQueues.Recorded ra = new TestQueues.Recorded();
    TestQueues.Recorded rb = new TestQueues.Recorded();
    TestQueues.Connected ac = TestQueues.connect(kit, s, "a", "", ra);
    OutboundQueue a = ac.queue();
    TestQueues.Connected bc = TestQueues.connect(kit, s, "b", "", rb);
    OutboundQueue b = bc.queue();
    call(s, new SystemActor.Bind("a", "g", "", "", LATER, reply.getRef().narrow()));
    call(s, new SystemActor.Bind("b", "g", "", "", LATER, reply.getRef().narrow()));
    call(s, new SystemActor.SendToGroup("g", PUSH, LATER, reply.getRef().narrow())); // answered by the group: joins are done
    assertEquals(4, TestQueues.taken(a).size()); // welcome, two joins, the push
    s.tell(new SystemActor.Drain(CloseCode.SERVICE_RESTART, "service restart", java.time.Duration.ZERO));
    TestProbe<Object> waiter = kit.createTestProbe();
    waiter.awaitAssert(() -> {
      assertEquals(CloseCode.SERVICE_RESTART, ra.closedWith.get());
      assertEquals(CloseCode.SERVICE_RESTART, rb.closedWith.get());
      return null;
    });
    bc.disconnect(CloseCode.SERVICE_RESTART);
    waiter.awaitAssert(() -> {
      assertEquals(1, statsOf(s).clients());
      return null;
    });
    assertEquals(List.of(), TestQueues.taken(a), "no 1002 during a drain");
  }

  @Test
  void closeClientAnswersEmptyObjectAndUnknownIdsChangeNothing() {
    ActorRef<SystemActor.Command> s = newSystem();
    assertEquals(ApiResult.Empty.OBJECT, call(s, new SystemActor.CloseClient("ghost", LATER, reply.getRef().narrow())).data());
    assertEquals(ApiResult.Empty.LIST, call(s, new SystemActor.Bind("ghost", "g", "", "", LATER, reply.getRef().narrow())).data());
    assertEquals(ApiResult.Empty.LIST, call(s, new SystemActor.Unbind("ghost", "g", LATER, reply.getRef().narrow())).data());
    assertEquals(new SystemActor.Stats(0, 0, 0, 0, 0), statsOf(s));
  }

  @Test
  void aCommandPastItsDeadlineIsAnsweredBusyAndDoesNothing() {
    ActorRef<SystemActor.Command> s = newSystem();
    TestQueues.Connected ac = TestQueues.connect(kit, s, "a");
    OutboundQueue a = ac.queue();
    TestQueues.Connected bc = TestQueues.connect(kit, s, "b");
    OutboundQueue b = bc.queue();
    assertEquals(0, call(s, new SystemActor.Bind("b", "g", "", "", LATER, reply.getRef().narrow())).code());
    call(s, new SystemActor.SendToGroup("g", PUSH, LATER, reply.getRef().narrow())); // answered by g after b's 1001
    TestQueues.taken(a);
    TestQueues.taken(b);
    for (SystemActor.Command late : List.<SystemActor.Command>of(
        new SystemActor.SendToClient("a", PUSH, PASSED, reply.getRef().narrow()),
        new SystemActor.SendToClients(List.of("a", "b"), PUSH, PASSED, reply.getRef().narrow()),
        new SystemActor.SendToGroup("g", PUSH, PASSED, reply.getRef().narrow()),
        new SystemActor.SendToSystem(PUSH, PASSED, reply.getRef().narrow()),
        new SystemActor.Bind("a", "h", "", "", PASSED, reply.getRef().narrow()),
        new SystemActor.Unbind("b", "g", PASSED, reply.getRef().narrow()),
        new SystemActor.CloseClient("a", PASSED, reply.getRef().narrow()),
        new SystemActor.GetOnlineList("g", PASSED, reply.getRef().narrow()),
        new SystemActor.GetAllGroups(PASSED, reply.getRef().narrow()))) {
      assertEquals(ApiResult.BUSY, call(s, late), late.toString());
    }
    assertEquals(List.of(), TestQueues.taken(a), "nothing was sent");
    assertEquals(List.of(), TestQueues.taken(b), "nothing was sent");
    assertFalse(a.isClosed(), "nobody was closed");
    assertEquals(new SystemActor.Stats(2, 1, 2, 1, 1), statsOf(s), "no bind, no unbind");
    call(s, new SystemActor.SendToGroup("g", PUSH, LATER, reply.getRef().narrow())); // g has handled all it was sent
    assertEquals(1, TestQueues.taken(b).size(), "only this push reached g's member");
  }

  @Test
  void aClientWhoseCloseIsDecidedIsGoneForTheApi() {
    ActorRef<SystemActor.Command> s = newSystem();
    TestQueues.Connected ac = TestQueues.connect(kit, s, "a");
    OutboundQueue a = ac.queue();
    TestQueues.Connected bc = TestQueues.connect(kit, s, "b");
    OutboundQueue b = bc.queue();
    TestQueues.Connected cc = TestQueues.connect(kit, s, "c");
    OutboundQueue c = cc.queue();
    call(s, new SystemActor.Bind("a", "g", "ua", "", LATER, reply.getRef().narrow()));
    call(s, new SystemActor.Bind("c", "g", "uc", "", LATER, reply.getRef().narrow()));

    // close_client: answered at once, and from then on c is not listed (its 1002 follows when its socket ends)
    assertEquals(0, call(s, new SystemActor.CloseClient("c", LATER, reply.getRef().narrow())).code());
    assertEquals(new ApiResult.OnlineList(1, List.of("a")),
        call(s, new SystemActor.GetOnlineList("g", LATER, reply.getRef().narrow())).data());
    assertEquals(new ApiResult.AllGroups(Map.of("g", List.of("a"))),
        call(s, new SystemActor.GetAllGroups(LATER, reply.getRef().narrow())).data());

    // a socket that has ended: a bind in the window before its ClientActor stops announces nothing
    bc.disconnect(1006);
    assertEquals(0, call(s, new SystemActor.Bind("b", "g", "ub", "", LATER, reply.getRef().narrow())).code());
    TestQueues.taken(a);
    call(s, new SystemActor.SendToGroup("g", PUSH, LATER, reply.getRef().narrow())); // orders what the group sent before it
    for (String frame : TestQueues.taken(a)) {
      assertFalse(frame.contains("\\\"clientId\\\":\\\"b\\\""), "nothing about b: " + frame);
    }
    assertEquals(new ApiResult.OnlineList(1, List.of("a")),
        call(s, new SystemActor.GetOnlineList("g", LATER, reply.getRef().narrow())).data());
  }
}

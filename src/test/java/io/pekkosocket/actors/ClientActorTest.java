package io.pekkosocket.actors;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.CloseCode;
import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.ws.Frame;
import io.pekkosocket.ws.FrameCounters;
import io.pekkosocket.ws.OutboundQueue;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The ClientActor's duties, with probes for its system, its group and the handshake it answers. */
class ClientActorTest {
  static final ActorTestKit kit = ActorTestKit.create();
  static final FrameEncoder ENCODER = new FrameEncoder(true, true);

  @AfterAll
  static void cleanup() {
    kit.shutdownTestKit();
  }

  private final TestProbe<SystemActor.Command> system = kit.createTestProbe();
  private final TestProbe<SystemActor.Admission> handshake = kit.createTestProbe();
  private final TestProbe<GroupActor.Command> group = kit.createTestProbe();
  private final TestProbe<ApiResult<?>> caller = kit.createTestProbe();
  /** Stands for the system's "routed" message that a Join or Leave carries back to it through the group. */
  private final SystemActor.Command done = new SystemActor.GetStats(kit.<SystemActor.Stats>createTestProbe().getRef());

  /** A client as its system spawns it, with {@code attachTimeout}; returns it once it has answered the handshake. */
  private ActorRef<ClientActor.Command> spawn(String tokenUserId, Duration attachTimeout) {
    return kit.spawn(ClientActor.create("c", "s", tokenUserId, system.getRef(), handshake.getRef(),
        new ClientActor.QueueLimits(16, 1 << 20, FrameCounters.NONE, attachTimeout), ENCODER, TestQueues.sessions(),
        ClientActor.Opening.PLAIN));
  }

  /** Spawns, checks the start, and plays the socket: attached with {@code socket}'s wake-ups. */
  private ActorRef<ClientActor.Command> attached(String tokenUserId, OutboundQueue.Wakeups socket) {
    ActorRef<ClientActor.Command> c = spawn(tokenUserId, Duration.ofMinutes(1));
    SystemActor.Admitted admitted = handshake.expectMessageClass(SystemActor.Admitted.class);
    system.expectMessageClass(SystemActor.Registered.class);
    admitted.queue().attach(socket);
    c.tell(new ClientActor.Attached(admitted.epoch()));
    return c;
  }

  @Test
  void itQueuesTheWelcomeBeforeItEntersTheIndexAndAnswersTheHandshakeWithItsQueue() {
    ActorRef<ClientActor.Command> c = spawn("", Duration.ofMinutes(1));
    SystemActor.Registered registered = system.expectMessageClass(SystemActor.Registered.class);
    assertEquals("c", registered.clientId());
    assertEquals(c, registered.ref());
    assertEquals(1, registered.queue().depth(), "the welcome is queued before the system can send anything");
    SystemActor.Admitted admitted = handshake.expectMessageClass(SystemActor.Admitted.class);
    assertSame(registered.queue(), admitted.queue());
    assertEquals(c, admitted.client());
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"clientId\":\"c\"}}\n", admitted.queue().take().text());
  }

  @Test
  void closeAsksTheConnectionToCloseWithTheCode() {
    TestQueues.Recorded socket = new TestQueues.Recorded();
    ActorRef<ClientActor.Command> c = attached("", socket);
    c.tell(new ClientActor.Close(CloseCode.NORMAL, "closed by server"));
    caller.awaitAssert(() -> {
      assertEquals(CloseCode.NORMAL, socket.closedWith.get());
      return null;
    });
  }

  @Test
  void aBindSetsTheAttributesJoinsTheGroupAndHasTheGroupAnswer() {
    ActorRef<ClientActor.Command> c = attached("token-user", new TestQueues.Recorded());
    c.tell(new ClientActor.Join(group.getRef(), "", "e1", caller.getRef().narrow(), done));
    GroupActor.Join join = group.expectMessageClass(GroupActor.Join.class);
    assertEquals(List.of("c", "token-user", "e1"), List.of(join.clientId(), join.userId(), join.extend()),
        "an empty userId keeps the connect token's");
    GroupActor.Answer<?> answer = group.expectMessageClass(GroupActor.Answer.class);
    assertEquals(ApiResult.okEmptyList(), answer.message());
    assertEquals(caller.getRef(), answer.replyTo());
    GroupActor.Answer<?> routed = group.expectMessageClass(GroupActor.Answer.class);
    assertEquals(done, routed.message(), "then the group tells the system that it has handled the Join");
    assertEquals(system.getRef(), routed.replyTo());

    c.tell(new ClientActor.Join(group.getRef(), "u2", "e2", caller.getRef().narrow(), done));
    join = group.expectMessageClass(GroupActor.Join.class);
    assertEquals(List.of("u2", "e2"), List.of(join.userId(), join.extend()));
    group.expectMessageClass(GroupActor.Answer.class);
  }

  @Test
  void anUnbindLeavesWithTheLastBindsAttributesThenTheGroupAnswersThenTellsTheSystem() {
    ActorRef<ClientActor.Command> c = attached("", new TestQueues.Recorded());
    c.tell(new ClientActor.Join(group.getRef(), "u", "x", caller.getRef().narrow(), done));
    group.expectMessageClass(GroupActor.Join.class);
    group.expectMessageClass(GroupActor.Answer.class);
    group.expectMessageClass(GroupActor.Answer.class);
    c.tell(new ClientActor.Leave(group.getRef(), true, caller.getRef().narrow(), done));
    assertEquals(new GroupActor.Leave("c", "u", "x", true), group.expectMessageClass(GroupActor.Leave.class));
    assertEquals(caller.getRef(), group.expectMessageClass(GroupActor.Answer.class).replyTo());
    assertEquals(done, group.expectMessageClass(GroupActor.Answer.class).message());
  }

  @Test
  void theDisconnectIsReportedOnceWithTheAttributesAndTheActorStopsWhenReleased() {
    ActorRef<ClientActor.Command> c = attached("", new TestQueues.Recorded());
    c.tell(new ClientActor.Join(group.getRef(), "u", "x", caller.getRef().narrow(), done));
    group.expectMessageClass(GroupActor.Join.class);
    group.expectMessageClass(GroupActor.Answer.class);
    group.expectMessageClass(GroupActor.Answer.class);
    c.tell(new ClientActor.ConnectionClosed(1, CloseCode.ABNORMAL, true));
    c.tell(new ClientActor.ConnectionClosed(1, CloseCode.ABNORMAL, true));
    assertEquals(new SystemActor.Left("c", "u", "x"), system.expectMessageClass(SystemActor.Left.class));

    // a bind the system forwarded before it heard of the disconnect: answered, and nothing announced
    c.tell(new ClientActor.Join(group.getRef(), "u", "x", caller.getRef().narrow(), done));
    assertEquals(ApiResult.okEmptyList(), caller.receiveMessage());
    assertEquals(done, system.receiveMessage(), "the system hears it was handled, from the client itself");
    group.expectNoMessage(Duration.ofMillis(100));
    system.expectNoMessage(Duration.ofMillis(100)); // the second report was not passed on

    c.tell(ClientActor.Release.INSTANCE);
    system.expectTerminated(c);
  }

  @Test
  void aSocketThatNeverAttachesEndsTheClientAtTheAttachTimeout() {
    ActorRef<ClientActor.Command> c = spawn("", Duration.ofMillis(200));
    SystemActor.Admitted admitted = handshake.expectMessageClass(SystemActor.Admitted.class);
    system.expectMessageClass(SystemActor.Registered.class);
    assertEquals(new SystemActor.Left("c", "", ""), system.expectMessageClass(SystemActor.Left.class,
        Duration.ofSeconds(5)));
    assertTrue(admitted.queue().isClosed(), "its queue refuses frames from now on");
    assertFalse(admitted.queue().offer(Frame.text("{}")));
    c.tell(ClientActor.Release.INSTANCE);
    system.expectTerminated(c);
  }

  @Test
  void stoppedWithItsSocketOpenItClosesItWith1011() {
    TestQueues.Recorded socket = new TestQueues.Recorded();
    ActorRef<ClientActor.Command> c = attached("", socket);
    kit.stop(c); // as when its SystemActor is lost
    caller.awaitAssert(() -> {
      assertEquals(CloseCode.INTERNAL_ERROR, socket.closedWith.get());
      return null;
    });
  }

  /** A resumable client with a 300 ms window; returns it with the nonce of its welcome's token. */
  private record Resumable(ActorRef<ClientActor.Command> ref, OutboundQueue queue, String nonce, Sessions sessions) {}

  private Resumable resumable() throws Exception {
    Sessions sessions = new Sessions(new io.pekkosocket.auth.ResumeTokens(), Duration.ofMillis(300), 16, 10);
    ActorRef<ClientActor.Command> c = kit.spawn(ClientActor.create("c", "s", "", system.getRef(), handshake.getRef(),
        new ClientActor.QueueLimits(16, 1 << 20, FrameCounters.NONE, Duration.ofMinutes(1)), ENCODER, sessions,
        ClientActor.Opening.RESUMABLE));
    SystemActor.Admitted admitted = handshake.expectMessageClass(SystemActor.Admitted.class);
    system.expectMessageClass(SystemActor.Registered.class);
    String welcome = admitted.queue().take().text();
    String token = io.pekkosocket.Api.JSON.readTree(welcome).get("data").get("resumeToken").asText();
    String nonce = sessions.tokens().verify(token, "s").orElseThrow().nonce();
    c.tell(new ClientActor.Attached(admitted.epoch())); // the test plays a socket that takes nothing
    return new Resumable(c, admitted.queue(), nonce, sessions);
  }

  @Test
  void aLostResumableSocketLeavesTheSessionWaitingAndAResumeWithItsNonceTakesItOver() throws Exception {
    Resumable r = resumable();
    r.queue().offer(Frame.text("{\"messageId\":\"0000000000000001\",\"data\":\"queued\"}"));
    c(r).tell(new ClientActor.ConnectionClosed(1, CloseCode.ABNORMAL, true));
    caller.awaitAssert(() -> {
      assertEquals(1, r.sessions().detached());
      return null;
    });
    system.expectNoMessage(Duration.ofMillis(50)); // no Left: the group hears nothing

    TestProbe<SystemActor.Admission> again = kit.createTestProbe();
    SystemActor.Connect connect = new SystemActor.Connect("new", "", ClientActor.Opening.RESUMABLE,
        new SystemActor.Resuming("c", r.nonce(), ""), again.getRef());
    c(r).tell(new ClientActor.Resume("not-the-nonce", "", connect));
    assertEquals(new SystemActor.ResumeRefused(connect), system.expectMessageClass(SystemActor.ResumeRefused.class));
    SystemActor.Connect otherUser = new SystemActor.Connect("new", "mallory", ClientActor.Opening.RESUMABLE,
        new SystemActor.Resuming("c", r.nonce(), ""), again.getRef());
    c(r).tell(new ClientActor.Resume(r.nonce(), "", otherUser));
    assertEquals(new SystemActor.ResumeRefused(otherUser), system.expectMessageClass(SystemActor.ResumeRefused.class),
        "a connect token of another user does not take the session over");

    c(r).tell(new ClientActor.Resume(r.nonce(), "", connect));
    SystemActor.Admitted resumed = again.expectMessageClass(SystemActor.Admitted.class);
    assertSame(r.queue(), resumed.queue(), "the same queue");
    assertEquals(2, resumed.epoch());
    assertEquals(1, resumed.preamble().size(), "the welcome (nothing was written: nothing to replay)");
    assertTrue(resumed.preamble().get(0).text().contains("\"clientId\":\"c\""));
    assertTrue(resumed.preamble().get(0).text().contains("\"resumed\":true"));
    assertEquals(0, r.sessions().detached());
    assertEquals("0000000000000001", r.queue().take().messageId(), "the queued frame waits for the new socket");

    // the new socket never attached (its handshake was lost): the client still has only the token it resumed with
    c(r).tell(new ClientActor.Resume(r.nonce(), "", connect));
    assertEquals(3, again.expectMessageClass(SystemActor.Admitted.class).epoch(), "so that token resumes again");
    c(r).tell(new ClientActor.Attached(3));
    c(r).tell(new ClientActor.Resume(r.nonce(), "", connect));
    system.expectMessageClass(SystemActor.ResumeRefused.class); // once a socket has attached, it is spent
    c(r).tell(new ClientActor.ConnectionClosed(1, CloseCode.ABNORMAL, true)); // the old socket: ignored
    system.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void aWaitingSessionEndsWhenTheWindowPasses() throws Exception {
    Resumable r = resumable();
    c(r).tell(new ClientActor.ConnectionClosed(1, CloseCode.GOING_AWAY, true));
    assertEquals(new SystemActor.Left("c", "", ""), system.expectMessageClass(SystemActor.Left.class,
        Duration.ofSeconds(5)));
    assertEquals(0, r.sessions().detached());
    assertTrue(r.queue().isClosed());
  }

  @Test
  void aCleanCloseEndsAResumableSessionAtOnce() throws Exception {
    Resumable r = resumable();
    c(r).tell(new ClientActor.ConnectionClosed(1, CloseCode.NORMAL, false));
    system.expectMessageClass(SystemActor.Left.class);
    assertEquals(0, r.sessions().detached());
  }

  private static ActorRef<ClientActor.Command> c(Resumable r) {
    return r.ref();
  }
}

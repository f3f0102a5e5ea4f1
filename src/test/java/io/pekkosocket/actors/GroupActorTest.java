package io.pekkosocket.actors;

import io.pekkosocket.wire.CloseCode;
import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.wire.Payload;
import io.pekkosocket.wire.Push;
import io.pekkosocket.ws.OutboundQueue;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class GroupActorTest {
  static final Deadline LATER = Deadline.after(java.time.Duration.ofHours(1));
  static final ActorTestKit kit = ActorTestKit.create();
  static final FrameEncoder enc = new FrameEncoder(true, true);

  @AfterAll
  static void cleanup() {
    kit.shutdownTestKit();
  }

  @Test
  void joinNotifiesAllMembersIncludingJoinerOnlyOnce() {
    ActorRef<GroupActor.Command> g = kit.spawn(GroupActor.create("s", enc, true, io.pekkosocket.ops.Faults.NONE));
    OutboundQueue a = TestQueues.queue();
    OutboundQueue b = TestQueues.queue();
    g.tell(new GroupActor.Join("a", a, "ua", "ea"));
    g.tell(new GroupActor.Join("b", b, "ub", ""));
    g.tell(new GroupActor.Join("b", b, "ub", "")); // already a member: nothing
    TestProbe<List<String>> members = kit.createTestProbe();
    g.tell(new GroupActor.GetMembers(members.getRef()));
    assertEquals(List.of("a", "b"), members.receiveMessage());
    List<String> atA = TestQueues.taken(a);
    List<String> atB = TestQueues.taken(b);
    assertEquals(2, atA.size());
    assertEquals(1, atB.size());
    assertEquals(atA.get(1), atB.get(0), "the same frame for every member");
    assertTrue(atA.get(0).contains("\"code\":1001") && atA.get(0).contains("\"sendUserId\":\"ua\""));
    assertTrue(atB.get(0).contains("{\\\"clientId\\\":\\\"b\\\",\\\"extend\\\":\\\"\\\",\\\"userId\\\":\\\"ub\\\"}"));
  }

  @Test
  void sendCountsAcceptedQueuesAndLeaveNotifiesTheRest() {
    ActorRef<GroupActor.Command> g = kit.spawn(GroupActor.create("s", enc, true, io.pekkosocket.ops.Faults.NONE));
    TestQueues.Recorded full = new TestQueues.Recorded();
    OutboundQueue a = TestQueues.queue();
    OutboundQueue tiny = TestQueues.queue(1, full);
    g.tell(new GroupActor.Join("a", a, "", ""));
    g.tell(new GroupActor.Join("tiny", tiny, "", "")); // its own 1001 fills its queue of one
    TestProbe<ApiResult<ApiResult.FanOutDelivery>> reply = kit.createTestProbe();
    g.tell(new GroupActor.Send(new Push("s", 5, "m", new Payload.Text("d")), LATER, reply.getRef()));
    ApiResult.FanOutDelivery d = reply.receiveMessage().data();
    assertEquals(1, d.delivered(), "the full queue refused, and asked for a 1013 close");
    assertEquals(CloseCode.TRY_AGAIN_LATER, full.closedWith.get());
    g.tell(new GroupActor.Leave("tiny", "u", "e", true));
    g.tell(new GroupActor.Send(new Push("", 0, "", Payload.EMPTY), LATER, reply.getRef().narrow()));
    reply.receiveMessage();
    List<String> atA = TestQueues.taken(a);
    assertEquals(5, atA.size()); // two joins, the push, the leave, the last push
    assertTrue(atA.get(2).contains("\"messageId\":\"" + d.messageId() + "\""));
    assertTrue(atA.get(3).contains("\"code\":1002"));
  }

  @Test
  void leaveWithoutNotifyAndNoticesOffSendNothing() {
    ActorRef<GroupActor.Command> quiet = kit.spawn(GroupActor.create("s", enc, false, io.pekkosocket.ops.Faults.NONE));
    OutboundQueue a = TestQueues.queue();
    OutboundQueue b = TestQueues.queue();
    quiet.tell(new GroupActor.Join("a", a, "", ""));
    quiet.tell(new GroupActor.Join("b", b, "", ""));
    quiet.tell(new GroupActor.Leave("b", "", "", true));
    TestProbe<List<String>> members = kit.createTestProbe();
    quiet.tell(new GroupActor.GetMembers(members.getRef()));
    assertEquals(List.of("a"), members.receiveMessage());
    assertEquals(List.of(), TestQueues.taken(a));

    ActorRef<GroupActor.Command> g = kit.spawn(GroupActor.create("s", enc, true, io.pekkosocket.ops.Faults.NONE));
    g.tell(new GroupActor.Join("a", a, "", ""));
    g.tell(new GroupActor.Join("b", b, "", ""));
    g.tell(new GroupActor.GetMembers(members.getRef()));
    assertEquals(List.of("a", "b"), members.receiveMessage());
    assertEquals(2, TestQueues.taken(a).size());
    g.tell(new GroupActor.Leave("b", "", "", false)); // during a drain
    g.tell(new GroupActor.GetMembers(members.getRef()));
    assertEquals(List.of("a"), members.receiveMessage());
    assertEquals(List.of(), TestQueues.taken(a));
  }

  @Test
  void stopEndsTheGroup() {
    ActorRef<GroupActor.Command> g = kit.spawn(GroupActor.create("s", enc, true, io.pekkosocket.ops.Faults.NONE));
    TestProbe<Object> watcher = kit.createTestProbe();
    g.tell(GroupActor.Stop.INSTANCE);
    watcher.expectTerminated(g);
  }

  @Test
  void aSendPastItsDeadlineIsAnsweredBusyAndSendsNothing() {
    FrameEncoder enc = new FrameEncoder(true, true);
    ActorRef<GroupActor.Command> g = kit.spawn(GroupActor.create("s", enc, true, io.pekkosocket.ops.Faults.NONE));
    OutboundQueue a = TestQueues.queue();
    g.tell(new GroupActor.Join("a", a, "", ""));
    TestProbe<ApiResult<ApiResult.FanOutDelivery>> reply = kit.createTestProbe();
    g.tell(new GroupActor.Send(new Push("", 0, "", Payload.EMPTY), new Deadline(System.nanoTime() - 1),
        reply.getRef()));
    assertEquals(ApiResult.BUSY, reply.receiveMessage());
    g.tell(new GroupActor.Send(new Push("", 0, "", new Payload.Text("in time")), LATER, reply.getRef()));
    assertEquals(1, reply.receiveMessage().data().delivered());
    List<String> frames = TestQueues.taken(a);
    assertEquals(2, frames.size(), "the 1001 and the push in time: " + frames);
    assertTrue(frames.get(1).contains("in time"));
  }
}

package io.pekkosocket.ws;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** A resumable queue: what it keeps of the frames its stages took, and how a new socket takes it over. */
class OutboundQueueResumeTest {
  static final class Stage implements OutboundQueue.Wakeups {
    final AtomicBoolean superseded = new AtomicBoolean();

    @Override
    public void frameAvailable() {}

    @Override
    public void closeRequested(int code, String reason, boolean flush) {}

    @Override
    public void superseded() {
      superseded.set(true);
    }
  }

  static Frame push(int n) {
    return Frame.text(String.format("{\"messageId\":\"%016x\",\"sendUserId\":\"\",\"code\":1,\"msg\":\"\",\"data\":\"%d\"}",
        n, n));
  }

  static List<String> ids(List<Frame> frames) {
    List<String> out = new ArrayList<>();
    for (Frame f : frames) out.add(f.messageId());
    return out;
  }

  @Test
  void aFrameKnowsItsMessageId() {
    assertEquals("0000000000000007", push(7).messageId());
    assertEquals("", Frame.text("{\"code\":0,\"msg\":\"success\",\"data\":{\"clientId\":\"c\"}}").messageId());
    assertEquals("", Frame.text("{\"messageId\":\"\",\"code\":-1001}").messageId());
  }

  @Test
  void aTakeOverGivesTheWrittenFramesAfterLastThenTheQueueGoesOn() {
    OutboundQueue q = new OutboundQueue(16, 1 << 20, FrameCounters.NONE, 8);
    Stage old = new Stage();
    q.attach(old);
    for (int i = 1; i <= 3; i++) q.offer(push(i));
    assertEquals(push(1).messageId(), q.take(old).messageId());
    assertEquals(push(2).messageId(), q.take(old).messageId());
    q.offer(push(4));

    List<Frame> replay = q.takeOver(push(1).messageId());
    assertEquals(ids(List.of(push(2))), ids(replay), "written after last: frame 2 (3 and 4 are still queued)");
    assertTrue(old.superseded.get(), "the stage that was attached is told to let go");
    assertNull(q.take(old), "and takes nothing more");
    Stage next = new Stage();
    q.attach(next);
    assertEquals(push(3).messageId(), q.take(next).messageId());
    assertEquals(push(4).messageId(), q.take(next).messageId());
    assertNull(q.take(next));
    assertNull(q.takeOver(push(1).messageId()), "frames up to the last one resumed from were forgotten");
    assertEquals(ids(List.of(push(2), push(3), push(4))), ids(q.takeOver("")),
        "nothing processed since the resume: everything written since it");
  }

  @Test
  void aLastNoLongerKeptOrNeverSentChangesNothing() {
    OutboundQueue q = new OutboundQueue(16, 1 << 20, FrameCounters.NONE, 2);
    Stage s = new Stage();
    q.attach(s);
    for (int i = 1; i <= 4; i++) {
      q.offer(push(i));
      q.take(s);
    }
    assertNull(q.takeOver(push(1).messageId()), "fell out of the two kept");
    assertNull(q.takeOver(""), "nothing after the welcome: but frames were lost");
    assertNull(q.takeOver("ffffffffffffffff"), "never sent");
    assertFalse(s.superseded.get(), "a failed takeover leaves the attached stage alone");
    assertEquals(ids(List.of(push(4))), ids(q.takeOver(push(3).messageId())));
  }

  @Test
  void theKeptFramesAreBoundedByBytesToo() {
    OutboundQueue q = new OutboundQueue(16, 1000, FrameCounters.NONE, 100);
    Stage s = new Stage();
    q.attach(s);
    List<Frame> bigs = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      Frame big = Frame.text(String.format("{\"messageId\":\"%016x\",\"data\":\"%s\"}", i, "x".repeat(400)));
      bigs.add(big);
      q.offer(big);
      q.take(s);
    }
    assertNull(q.takeOver(bigs.get(0).messageId()), "three frames of ~440 bytes do not fit 1000: the first fell out");
    assertNull(q.takeOver(""), "so \"everything after the welcome\" is gone too");
    assertEquals(ids(List.of(bigs.get(2))), ids(q.takeOver(bigs.get(1).messageId())));
  }

  @Test
  void aPlainQueueKeepsNothingAndCannotBeTakenOver() {
    OutboundQueue q = new OutboundQueue(16, 1 << 20, FrameCounters.NONE);
    assertFalse(q.resumable());
    assertNull(q.takeOver(""));
  }

  @Test
  void aCloseWhileNoStageIsAttachedTellsTheOwner() {
    OutboundQueue q = new OutboundQueue(1, 1 << 20, FrameCounters.NONE, 8);
    AtomicBoolean told = new AtomicBoolean();
    q.whenClosedUnattached(() -> told.set(true));
    assertTrue(q.offer(push(1)));
    assertFalse(q.offer(push(2)), "overflow");
    assertTrue(told.get());
  }

  @Test
  void theWelcomeIsNotKeptAResumeWritesItsOwn() {
    OutboundQueue q = new OutboundQueue(16, 1 << 20, FrameCounters.NONE, 8);
    Stage s = new Stage();
    q.attach(s);
    q.offer(Frame.text("{\"code\":0,\"msg\":\"success\",\"data\":{\"clientId\":\"c\",\"resumeToken\":\"t\"}}"));
    q.offer(push(1));
    assertNotNull(q.take(s));
    assertNotNull(q.take(s));
    assertEquals(ids(List.of(push(1))), ids(q.takeOver("")), "nothing processed after the welcome: the push only");
  }

  @Test
  void aSocketAttachedToASessionThatEndedIsClosed() {
    java.util.concurrent.atomic.AtomicInteger closedWith = new java.util.concurrent.atomic.AtomicInteger();
    OutboundQueue.Wakeups socket = new OutboundQueue.Wakeups() {
      @Override
      public void frameAvailable() {}

      @Override
      public void closeRequested(int code, String reason, boolean flush) {
        closedWith.set(code);
      }
    };
    OutboundQueue ended = new OutboundQueue(16, 1 << 20, FrameCounters.NONE, 8);
    ended.end(FrameCounters.Discard.RESET);
    ended.attach(socket);
    assertEquals(1011, closedWith.get(), "a socket that came after its session ended");

    closedWith.set(0);
    OutboundQueue late = new OutboundQueue(16, 1 << 20, FrameCounters.NONE, 8);
    late.attach(socket);
    late.end(FrameCounters.Discard.RESET);
    assertEquals(1011, closedWith.get(), "a socket attached when its session ends");
  }
}

package io.pekkosocket.actors;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The one decision between the route (abandon) and the actor (start): exactly one of them wins. */
class DeadlineTest {

  @Test
  void aStartedCommandCannotBeAbandoned() {
    Deadline d = Deadline.after(Duration.ofHours(1));
    assertFalse(d.passed(), "starts");
    assertTrue(d.started());
    assertFalse(d.abandon(), "the route must wait for it");
    assertFalse(d.passed(), "asking again (a second actor on its way) does not stop it");
  }

  @Test
  void anAbandonedCommandNeverStarts() {
    Deadline d = Deadline.after(Duration.ofHours(1));
    assertFalse(d.abandoned());
    assertTrue(d.abandon());
    assertTrue(d.abandoned());
    assertTrue(d.passed(), "the actor must not run it");
    assertFalse(d.started());
  }

  @Test
  void pastItsDeadlineACommandIsGivenUpByTheActorToo() {
    Deadline d = new Deadline(System.nanoTime() - 1);
    assertTrue(d.abandoned());
    assertTrue(d.passed());
    assertTrue(d.abandon(), "the route sees it given up");
    assertFalse(d.started());
  }

  @Test
  void underARaceExactlyOneSideWins() throws Exception {
    for (int i = 0; i < 2_000; i++) {
      Deadline d = Deadline.after(Duration.ofHours(1));
      CountDownLatch go = new CountDownLatch(1);
      AtomicBoolean ran = new AtomicBoolean();
      Thread actor = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        ran.set(!d.passed());
      });
      actor.start();
      go.countDown();
      boolean answered503 = d.abandon();
      actor.join();
      assertNotEquals(answered503, ran.get(), "either answered 503 or ran, never both, never neither");
    }
  }
}

package io.pekkosocket;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pekkosocket.ops.Faults;
import io.pekkosocket.ops.Metrics;
import io.pekkosocket.registry.SystemStore;
import io.pekkosocket.wire.ApiResult;
import java.nio.file.Files;
import java.time.Duration;
import io.pekkosocket.actors.Deadline;
import io.pekkosocket.actors.SystemActor;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A {@code register} that arrives while the same systemId's write is in flight waits for that write (audit L8):
 * told "duplicate" only if the write succeeded, "registry unavailable" if it failed.
 */
class GuardianRegisterTest {
  static final Config CONFIG = ConfigFactory.parseResources("socket-defaults.conf")
      .withFallback(ConfigFactory.load()).resolve();
  static final ActorTestKit kit = ActorTestKit.create(CONFIG);
  static final Settings settings = Settings.from(CONFIG);
  static final String UNAVAILABLE = "registry unavailable, try again";

  @AfterAll
  static void cleanup() {
    kit.shutdownTestKit();
  }

  /**
   * Occupies both threads of the blocking dispatcher until the returned latch is released, so the Guardian's
   * store write stays in flight while the test sends more messages.
   */
  private static CountDownLatch holdTheDiskThreads() throws InterruptedException {
    Executor blocking = kit.system().dispatchers().lookup(DispatcherSelector.fromConfig("socket.blocking-dispatcher"));
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch busy = new CountDownLatch(2);
    for (int i = 0; i < 2; i++) {
      blocking.execute(() -> {
        busy.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    assertTrue(busy.await(10, TimeUnit.SECONDS));
    return release;
  }

  /** Two registers of one id, both handled by the Guardian while the first write is still in flight. */
  private static List<ApiResult> registerTwiceDuringTheWrite(SystemStore store, String id) throws Exception {
    ActorRef<Guardian.Command> guardian = kit.spawn(Guardian.create(settings, store, List.of(),
        new io.pekkosocket.auth.KeyRing(), new io.pekkosocket.actors.Sessions(new io.pekkosocket.auth.ResumeTokens(),
            Duration.ofSeconds(30), 256, 10_000), new Metrics(), Faults.NONE, new io.pekkosocket.Admission(0)));
    TestProbe<ApiResult<?>> first = kit.createTestProbe();
    TestProbe<ApiResult<?>> second = kit.createTestProbe();
    TestProbe<SystemActor.Admission> found = kit.createTestProbe();
    CountDownLatch release = holdTheDiskThreads();
    try {
      guardian.tell(new Guardian.Register(id, Deadline.after(Duration.ofSeconds(30)), first.getRef().narrow()));
      guardian.tell(new Guardian.Register(id, Deadline.after(Duration.ofSeconds(30)), second.getRef().narrow()));
      guardian.tell(new Guardian.ToSystem(id, new SystemActor.Connect("c1", "", found.getRef())));
      assertInstanceOf(SystemActor.UnknownSystem.class, found.receiveMessage(),
          "both registers handled, the write not done yet");
    } finally {
      release.countDown();
    }
    List<ApiResult> results = List.of(first.receiveMessage(), second.receiveMessage());
    guardian.tell(new Guardian.ToSystem(id, new SystemActor.Connect("c2", "", found.getRef())));
    results = new java.util.ArrayList<>(results);
    results.add(found.receiveMessage() instanceof SystemActor.Admitted ? ApiResult.okEmptyList() : null);
    return results;
  }

  @Test
  void aWaitingDuplicateIsToldTheWriteFailedWhenItFails() throws Exception {
    SystemStore store = SystemStore.open(Files.createTempDirectory("guardian-failing"));
    store.close(); // every write now fails
    List<ApiResult> r = registerTwiceDuringTheWrite(store, "s-" + UUID.randomUUID());
    assertEquals(ApiResult.error(UNAVAILABLE), r.get(0));
    assertEquals(ApiResult.error(UNAVAILABLE), r.get(1), "never 该系统ID已被注册 for a system that does not exist");
    assertNull(r.get(2), "not registered");
  }

  @Test
  void aWaitingDuplicateIsToldDuplicateWhenTheWriteSucceeds() throws Exception {
    try (SystemStore store = SystemStore.open(Files.createTempDirectory("guardian-ok"))) {
      String id = "s-" + UUID.randomUUID();
      List<ApiResult> r = registerTwiceDuringTheWrite(store, id);
      assertEquals(ApiResult.okEmptyList(), r.get(0));
      assertEquals(ApiResult.error(ApiResult.DUPLICATE_SYSTEM), r.get(1));
      assertNotNull(r.get(2), "registered");
      assertEquals(List.of(id), store.loadAll());
    }
  }
}

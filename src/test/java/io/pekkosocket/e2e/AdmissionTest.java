package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import io.pekkosocket.ops.Faults;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Admission control and deadlines (issue 8, M7): a system has a bounded number of API commands in flight, beyond
 * which the API answers 503 at once; a command whose caller was answered 503 never runs later.
 *
 * <p>A {@link Gate} holds a test system's actor inside the fault hook (a test-only stand-in for an actor that is
 * busy); every gate is opened after each test, so no actor stays blocked.
 */
class AdmissionTest {
  static final String BUSY = "{\"code\":-1,\"msg\":\"server busy, try again\",\"data\":[]}";

  /** Holds every actor that reaches it until {@link #open}; counts who reached it. */
  static final class Gate {
    final CountDownLatch opened = new CountDownLatch(1);
    final Semaphore reached = new Semaphore(0);

    void pass() {
      reached.release();
      try {
        opened.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    void awaitReached() throws InterruptedException {
      assertTrue(reached.tryAcquire(15, TimeUnit.SECONDS), "an actor reached the gate");
    }

    void open() {
      opened.countDown();
    }

    boolean isOpen() {
      return opened.getCount() == 0;
    }
  }

  static final Map<String, Gate> gates = new ConcurrentHashMap<>();
  static final Faults FAULTS = (point, key) -> {
    Gate g = gates.get(point + ":" + key);
    if (g != null) g.pass();
  };

  /** A long ask timeout: a 503 seen within the HTTP client's 20 s can only be an admission refusal. */
  static TestServer patient;
  /** A short ask timeout and grace: callers are answered 503 by timeout while their command waits. */
  static TestServer impatient;

  @BeforeAll
  static void start() {
    // four dispatcher threads: a test holds one or two of them in a gate
    patient = TestServer.start(Map.of("socket.api.ask-timeout", "30s",
        "socket.limits.commands-in-flight-per-system", 2,
        "pekko.actor.default-dispatcher.fork-join-executor.parallelism-min", 4), FAULTS);
    // its systems are registered at startup: a register through the API could itself miss 300 ms on a loaded machine
    impatient = TestServer.start(Map.of("socket.api.ask-timeout", "300ms", "socket.api.deadline-grace", "300ms",
        "socket.systems", java.util.List.of("impatient-1", "impatient-2", "impatient-3"),
        "pekko.actor.default-dispatcher.fork-join-executor.parallelism-min", 4), FAULTS);
  }

  @AfterAll
  static void stop() throws Exception {
    patient.close();
    impatient.close();
  }

  @AfterEach
  void openEveryGate() {
    gates.values().forEach(Gate::open);
    gates.clear();
  }

  static Api.Response sendToClient(TestServer s, String system, WsClient c, String data) {
    return s.api.post("send_to_client", system, "{\"clientId\":" + Api.q(c.clientId) + ",\"data\":" + Api.q(data) + "}");
  }

  static Api.Response sendToGroup(TestServer s, String system, String group, String data) {
    return s.api.post("send_to_group", system, "{\"groupName\":" + Api.q(group) + ",\"data\":" + Api.q(data) + "}");
  }

  /** A setup bind; one answered 503 (the impatient server on a loaded machine) never ran, so it is retried. */
  static void bind(TestServer s, String system, WsClient c, String group) {
    Api.Reply<io.pekkosocket.wire.ApiResult.Empty> r;
    int attempts = 0;
    do {
      r = s.api.bind(system, c.clientId, group);
    } while (r.status() == 503 && ++attempts < 20);
    r.ok();
  }

  static CompletableFuture<Api.Response> async(java.util.function.Supplier<Api.Response> call) {
    return CompletableFuture.supplyAsync(call);
  }

  @Test
  void commandsBeyondTheInFlightLimitAreRefusedAtOnce() throws Exception {
    String x = patient.newSystem();
    String y = patient.newSystem();
    try (WsClient c = patient.connect(x); WsClient other = patient.connect(y)) {
      bind(patient, x, c, "g");
      assertEquals(1001, c.nextJson().get("code").asInt());
      Gate groupGate = new Gate();
      Gate systemGate = new Gate();
      gates.put("group:" + x, groupGate);
      gates.put("system:" + x, systemGate);

      // two commands in flight (the limit), each held inside an actor of the system
      CompletableFuture<Api.Response> first = async(() -> sendToGroup(patient, x, "g", "first"));
      groupGate.awaitReached();
      CompletableFuture<Api.Response> second = async(() -> sendToClient(patient, x, c, "second"));
      systemGate.awaitReached();

      // a third is refused while both are still held: it was not queued (its ask timeout is 30 s)
      Api.Response third = patient.api.post("get_online_list", x, "{\"groupName\":\"g\"}");
      assertEquals(503, third.status());
      assertEquals(BUSY, third.body());
      Api.Response fourth = sendToClient(patient, x, c, "fourth");
      assertEquals(503, fourth.status());
      assertFalse(first.isDone() || second.isDone() || groupGate.isOpen() || systemGate.isOpen(),
          "the refusals came while the admitted commands were still held");
      // the limit is per system
      Api.Response elsewhere = sendToClient(patient, y, other, "elsewhere");
      assertEquals(200, elsewhere.status());
      assertEquals("elsewhere", other.nextJson().get("data").asText());

      groupGate.open();
      systemGate.open();
      assertEquals(200, first.get(20, TimeUnit.SECONDS).status());
      assertEquals(1, first.get().data().get("delivered").asInt());
      assertEquals(200, second.get(20, TimeUnit.SECONDS).status());
      assertTrue(second.get().data().get("delivered").asBoolean());
      Set<String> got = new HashSet<>();
      got.add(c.nextJson().get("data").asText());
      got.add(c.nextJson().get("data").asText());
      assertEquals(Set.of("first", "second"), got, "the refused fourth was never delivered");

      // the answers gave the permits back
      Api.Response again = patient.api.post("get_online_list", x, "{\"groupName\":\"g\"}");
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"count\":1,\"list\":[" + Api.q(c.clientId) + "]}}",
          again.body());
      assertEquals(200, sendToClient(patient, x, c, "fifth").status());
      assertEquals("fifth", c.nextJson().get("data").asText());
    }
  }

  @Test
  void aGroupSendWhoseCallerGot503IsNeverDeliveredLater() throws Exception {
    String x = "impatient-1";
    try (WsClient a = impatient.connect(x); WsClient b = impatient.connect(x)) {
      bind(impatient, x, a, "g");
      bind(impatient, x, b, "g");
      a.next();
      a.next();
      b.next();
      Gate gate = new Gate();
      gates.put("group:" + x, gate);

      CompletableFuture<Api.Response> first = async(() -> sendToGroup(impatient, x, "g", "first"));
      gate.awaitReached(); // the group is held with "first"
      CompletableFuture<Api.Response> second = async(() -> sendToGroup(impatient, x, "g", "second"));
      // both callers give up while their commands wait in the group
      assertEquals(BUSY, first.get(20, TimeUnit.SECONDS).body());
      assertEquals(503, first.get().status());
      assertEquals(BUSY, second.get(20, TimeUnit.SECONDS).body());
      assertEquals(503, second.get().status());

      gate.open();
      Api.Response third = sendToGroup(impatient, x, "g", "third");
      assertEquals(200, third.status());
      assertEquals(2, third.data().get("delivered").asInt());
      assertEquals("third", a.nextJson().get("data").asText(), "a got nothing of the sends answered 503");
      assertEquals("third", b.nextJson().get("data").asText(), "b got nothing of the sends answered 503");
    }
  }

  @Test
  void aDirectSendWhoseCallerGot503IsNeverDeliveredLater() throws Exception {
    String x = "impatient-2";
    try (WsClient a = impatient.connect(x)) {
      Gate gate = new Gate();
      gates.put("system:" + x, gate);

      CompletableFuture<Api.Response> first = async(() -> sendToClient(impatient, x, a, "first"));
      gate.awaitReached(); // the system is held with "first"
      CompletableFuture<Api.Response> second = async(() -> impatient.api.post("send_to_system", x,
          "{\"data\":\"second\"}"));
      CompletableFuture<Api.Response> bind = async(() -> impatient.api.post("bind_to_group", x,
          "{\"clientId\":" + Api.q(a.clientId) + ",\"groupName\":\"late\"}"));
      for (CompletableFuture<Api.Response> f : java.util.List.of(first, second, bind)) {
        assertEquals(503, f.get(20, TimeUnit.SECONDS).status());
        assertEquals(BUSY, f.get().body());
      }

      gate.open();
      assertTrue(sendToClient(impatient, x, a, "third").data().get("delivered").asBoolean());
      assertEquals("third", a.nextJson().get("data").asText(), "nothing of the calls answered 503 arrived");
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{}}", impatient.api.post("get_all_groups", x, "{}").body(),
          "the bind answered 503 did not happen either");
    }
  }

  @Test
  void aCommandThatStartedInTimeIsWaitedForAndNeverAnswered503() throws Exception {
    String x = "impatient-3";
    try (WsClient a = impatient.connect(x)) {
      Gate gate = new Gate();
      gates.put("system-started:" + x, gate); // held after it started: past its deadline and past the grace
      CompletableFuture<Api.Response> slow = async(() -> sendToClient(impatient, x, a, "slow"));
      gate.awaitReached();
      Api.Response r = slow.get(20, TimeUnit.SECONDS);
      assertEquals(504, r.status(), "a started command is not answered 503");
      assertEquals("{\"code\":-1,\"msg\":\"timed out; the command may have run\",\"data\":[]}", r.body());
      gate.open();
      assertEquals("slow", a.nextJson().get("data").asText(), "it did run: a 503 would have been untrue");
    }
  }

  @Test
  void requestBytesInFlightAreBoundedPerSystem() throws Exception {
    try (TestServer frugal = TestServer.start(Map.of("socket.api.ask-timeout", "30s",
        "socket.api.max-body", "4 KiB", "socket.limits.bytes-in-flight-per-system", "8 KiB",
        "pekko.actor.default-dispatcher.fork-join-executor.parallelism-min", 4), FAULTS)) {
      String x = frugal.newSystem();
      try (WsClient c = frugal.connect(x)) {
        bind(frugal, x, c, "g");
        assertEquals(1001, c.nextJson().get("code").asInt());
        Gate groupGate = new Gate();
        Gate systemGate = new Gate();
        gates.put("group:" + x, groupGate);
        gates.put("system:" + x, systemGate);
        String big = "b".repeat(3_000); // bodies of about 3 KiB
        CompletableFuture<Api.Response> first = async(() -> sendToGroup(frugal, x, "g", big + "1"));
        groupGate.awaitReached(); // held in the group
        CompletableFuture<Api.Response> second = async(() -> sendToClient(frugal, x, c, big + "2"));
        systemGate.awaitReached(); // held in the system: 6 KiB of bodies in flight
        Api.Response third = sendToGroup(frugal, x, "g", big + "3");
        assertEquals(503, third.status(), "3 KiB more would pass the 8 KiB of the system");
        assertEquals(BUSY, third.body());
        // a small command still fits: admitted (it waits behind the held system, but is not refused)
        CompletableFuture<Api.Response> small = async(() -> sendToClient(frugal, x, c, "small"));
        assertFalse(first.isDone() || second.isDone(), "the refusal came while both were held");
        groupGate.open();
        systemGate.open();
        assertEquals(200, first.get(20, TimeUnit.SECONDS).status());
        assertEquals(200, second.get(20, TimeUnit.SECONDS).status());
        assertEquals(200, small.get(20, TimeUnit.SECONDS).status());
        Set<String> got = new HashSet<>();
        for (int i = 0; i < 3; i++) got.add(c.nextJson().get("data").asText());
        assertEquals(Set.of(big + "1", big + "2", "small"), got, "the refused third never arrived");
        assertEquals(200, sendToGroup(frugal, x, "g", big + "4").status(), "the bytes came back with the answers");
      }
    }
  }
}

package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import io.pekkosocket.ops.Faults;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A failure while one system's or group's actor handles a message affects nobody else, and the actor carries on
 * with consistent state: no ghost members, no lost members. An {@code Error}, which stops the actor, costs the lost
 * actor's connections a close 1011 and leaves nothing dead behind (issue 8, L2).
 */
class SupervisionTest {
  static final Set<String> failing = ConcurrentHashMap.newKeySet();
  static final Set<String> erring = ConcurrentHashMap.newKeySet();
  static TestServer server;

  /**
   * Throws at the given point for systems listed in {@link #failing} (an exception) or {@link #erring} (an
   * {@code Error}): "system:<id>" or "group:<id>".
   */
  /** How many times each system's actor started ("system-start:<id>"). */
  static final Map<String, java.util.concurrent.atomic.AtomicInteger> starts = new ConcurrentHashMap<>();

  static final Faults FAULTS = (point, key) -> {
    if (point.equals("system-start")) {
      starts.computeIfAbsent(key, k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
    }
    if (failing.contains(point + ":" + key)) throw new IllegalStateException("injected fault");
    if (erring.contains(point + ":" + key)) throw new AssertionError("injected error");
  };

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("socket.api.ask-timeout", "1s", "socket.api.deadline-grace", "200ms"), FAULTS);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static void bind(String s, WsClient c) {
    server.api.bind(s, c.clientId, "g").ok();
  }

  static Api.Response sendToGroup(String s, String data) {
    return server.api.post("send_to_group", s, "{\"groupName\":\"g\",\"data\":" + Api.q(data) + "}");
  }

  @Test
  void faultsInOneSystemAndItsGroupLeaveOthersAndItsOwnStateIntact() {
    String x = server.newSystem();
    String y = server.newSystem();
    try (WsClient x1 = server.connect(x); WsClient x2 = server.connect(x);
         WsClient y1 = server.connect(y); WsClient y2 = server.connect(y)) {
      bind(x, x1);
      bind(x, x2);
      bind(y, y1);
      bind(y, y2);
      for (WsClient c : new WsClient[] {x1, y1}) {
        c.next();
        c.next();
      }
      x2.next();
      y2.next();
      String membersBefore = server.api.post("get_online_list", x, "{\"groupName\":\"g\"}").body();

      failing.add("group:" + x);
      failing.add("system:" + x);
      try {
        Api.Response failedSend = sendToGroup(x, "lost");
        assertEquals(503, failedSend.status(), "the failed call is answered, not left hanging");
        assertEquals(503, server.api.post("bind_to_group", x, "{\"clientId\":" + Api.q(x1.clientId)
            + ",\"groupName\":\"other\"}").status());
        assertEquals(503, server.api.post("send_to_client", x, "{\"clientId\":" + Api.q(x1.clientId) + "}").status());
        // the other tenant is not affected at all
        Api.Response ySend = sendToGroup(y, "fine");
        assertEquals(2, ySend.data().get("delivered").asInt());
        assertEquals("fine", y1.nextJson().get("data").asText());
        assertEquals("fine", y2.nextJson().get("data").asText());
      } finally {
        failing.clear();
      }

      // the failing system and group carry on with the same members: no ghost, none lost
      assertEquals(membersBefore, server.api.post("get_online_list", x, "{\"groupName\":\"g\"}").body());
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"g\":[" + Api.q(x1.clientId) + ","
          + Api.q(x2.clientId) + "]}}", server.api.post("get_all_groups", x, "{}").body());
      Api.Response after = sendToGroup(x, "after");
      assertEquals(2, after.data().get("delivered").asInt());
      assertEquals("after", x1.nextJson().get("data").asText(), "nothing of the failed send arrived");
      assertEquals("after", x2.nextJson().get("data").asText());
      x2.closeWith(1000);
      x2.awaitClose();
      assertEquals(1002, x1.nextJson().get("code").asInt());
      server.api.sendToClient(x, x1.clientId, "only").ok();
      assertEquals("only", x1.nextJson().get("data").asText(), "exactly one 1002");
    }
  }

  static double groupsLive() {
    return MetricsTest.value(server.api.get("/metrics").body(), "socket_groups_live");
  }

  /** Waits until the live-groups gauge shows {@code expected} (it is updated as actors stop). */
  static void awaitGroupsLive(double expected) {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    double got = groupsLive();
    while (got != expected && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
      got = groupsLive();
    }
    assertEquals(expected, got, "socket_groups_live");
  }

  static Api.Response sendToClient(String s, WsClient c, String data) {
    return server.api.post("send_to_client", s, "{\"clientId\":" + Api.q(c.clientId) + ",\"data\":" + Api.q(data)
        + "}");
  }

  @Test
  void anErrorInASystemClosesItsConnectionsWith1011AndTheSystemWorksAgain() {
    String x = server.newSystem();
    String y = server.newSystem();
    try (WsClient x1 = server.connect(x); WsClient x2 = server.connect(x); WsClient y1 = server.connect(y)) {
      double groupsBefore = groupsLive();
      bind(x, x1);
      assertEquals(1001, x1.nextJson().get("code").asInt());
      awaitGroupsLive(groupsBefore + 1);

      erring.add("system:" + x);
      try {
        assertEquals(503, sendToClient(x, x1, "lost").status());
      } finally {
        erring.clear();
      }
      // the lost system's connections are closed, not left open and deaf
      assertEquals(1011, x1.awaitClose().code());
      assertEquals(1011, x2.awaitClose().code());
      assertEquals(List.of(), x1.drain().stream().filter(f -> f.contains("lost")).toList());
      awaitGroupsLive(groupsBefore);

      // the other system noticed nothing
      assertTrue(sendToClient(y, y1, "fine").data().get("delivered").asBoolean());
      assertEquals("fine", y1.nextJson().get("data").asText());
      assertFalse(y1.isClosed());

      // the system works again: the API answers, a new connection is welcomed, binds make groups
      // (the clients' 1011 comes before the Guardian has replaced the system: a call in between is answered 503,
      // and a 503 never ran, so it is asked again)
      Api.Response gone = sendToClient(x, x1, "gone");
      for (int attempt = 0; gone.status() == 503 && attempt < 20; attempt++) gone = sendToClient(x, x1, "gone");
      assertFalse(gone.data().get("delivered").asBoolean());
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{}}", server.api.post("get_all_groups", x, "{}").body());
      try (WsClient x3 = server.connect(x)) {
        assertTrue(sendToClient(x, x3, "back").data().get("delivered").asBoolean());
        assertEquals("back", x3.nextJson().get("data").asText());
        bind(x, x3);
        assertEquals(1001, x3.nextJson().get("code").asInt());
        assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"count\":1,\"list\":[" + Api.q(x3.clientId) + "]}}",
            server.api.post("get_online_list", x, "{\"groupName\":\"g\"}").body());
        awaitGroupsLive(groupsBefore + 1);
      }
    }
  }

  @Test
  void anErrorInAGroupClosesItsMembersWith1011AndDropsTheGroup() {
    String x = server.newSystem();
    try (WsClient x1 = server.connect(x); WsClient x2 = server.connect(x); WsClient x3 = server.connect(x)) {
      double groupsBefore = groupsLive();
      bind(x, x1);
      bind(x, x2);
      for (WsClient c : new WsClient[] {x3, x1}) {
        assertEquals(0, server.api.post("bind_to_group", x, "{\"clientId\":" + Api.q(c.clientId)
            + ",\"groupName\":\"h\"}").code());
      }
      x1.next();
      x1.next();
      x2.next();
      x3.next(); // 1001 x3 in h
      assertEquals(1001, x3.nextJson().get("code").asInt()); // 1001 x1 in h
      x1.drain();
      awaitGroupsLive(groupsBefore + 2);

      erring.add("group:" + x);
      try {
        assertEquals(503, sendToGroup(x, "lost").status());
      } finally {
        erring.clear();
      }
      assertEquals(1011, x1.awaitClose().code());
      assertEquals(1011, x2.awaitClose().code());

      // g is gone with no ghost; x1 left h as any client that ends does (1002 to x3)
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"count\":0,\"list\":[]}}",
          server.api.post("get_online_list", x, "{\"groupName\":\"g\"}").body());
      var offline = x3.nextJson();
      assertEquals(1002, offline.get("code").asInt());
      assertTrue(offline.get("data").asText().contains(x1.clientId));
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"h\":[" + Api.q(x3.clientId) + "]}}",
          server.api.post("get_all_groups", x, "{}").body());
      awaitGroupsLive(groupsBefore + 1);
      assertFalse(x3.isClosed());

      // a new bind makes g again
      try (WsClient x4 = server.connect(x)) {
        bind(x, x4);
        assertEquals(1001, x4.nextJson().get("code").asInt());
        Api.Response again = sendToGroup(x, "again");
        assertEquals(1, again.data().get("delivered").asInt());
        assertEquals("again", x4.nextJson().get("data").asText());
        awaitGroupsLive(groupsBefore + 2);
      }
      assertEquals(List.of(), x3.drain(), "x3 saw nothing of g");
    }
  }

  @Test
  void aSystemThatFailsAtEveryStartIsStartedAgainWithBackoffNotInATightLoop() throws Exception {
    String x = server.newSystem();
    erring.add("system-start:" + x);
    erring.add("system:" + x);
    try {
      server.api.post("send_to_client", x, "{\"clientId\":\"nobody\"}"); // an Error: the system is lost
      erring.remove("system:" + x);
      // every start now fails at once; watch for two seconds how often it is started again
      long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(2);
      while (System.nanoTime() < until) {
        Api.Response r = server.api.post("get_all_groups", x, "{}");
        assertTrue(r.status() == 503 || r.status() == 504, "a system that is not there answers busy: " + r);
        Thread.sleep(20); // paces the calls; the assertion is on the count below
      }
      int started = starts.get(x).get();
      assertTrue(started >= 3, "it is started again: " + started);
      assertTrue(started < 30, "with growing pauses, not in a tight loop: " + started + " starts in 2 s");
    } finally {
      erring.remove("system-start:" + x);
      erring.remove("system:" + x);
    }
    // once starting works again, so does the system
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(40);
    Api.Response r = server.api.post("get_all_groups", x, "{}");
    while (r.status() != 200 && System.nanoTime() < deadline) {
      Thread.sleep(100); // polls until the backoff's next start
      r = server.api.post("get_all_groups", x, "{}");
    }
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{}}", r.body());
    try (WsClient c = server.connect(x)) {
      assertTrue(server.api.post("send_to_client", x, "{\"clientId\":" + Api.q(c.clientId) + ",\"data\":\"ok\"}")
          .data().get("delivered").asBoolean());
    }
  }
}

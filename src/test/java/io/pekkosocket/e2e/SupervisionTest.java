package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import io.pekkosocket.ops.Faults;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A failure while one system's or group's actor handles a message affects nobody else, and the actor carries on
 * with consistent state: no ghost members, no lost members.
 */
class SupervisionTest {
  static final Set<String> failing = ConcurrentHashMap.newKeySet();
  static TestServer server;

  /** Throws at the given point for systems listed in {@link #failing} ("system:<id>" or "group:<id>"). */
  static final Faults FAULTS = (point, key) -> {
    if (failing.contains(point + ":" + key)) throw new IllegalStateException("injected fault");
  };

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("socket.api.ask-timeout", "1s"), FAULTS);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static void bind(String s, WsClient c) {
    assertEquals(0, server.api.post("bind_to_group", s, "{\"clientId\":" + Api.q(c.clientId)
        + ",\"groupName\":\"g\"}").code());
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
      server.api.post("send_to_client", x, "{\"clientId\":" + Api.q(x1.clientId) + ",\"data\":\"only\"}");
      assertEquals("only", x1.nextJson().get("data").asText(), "exactly one 1002");
    }
  }
}

package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.RawWsClient;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each limit of the hardening issue, at its default (or a small configured value), with its error. */
class LimitsTest {
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String bindBody(String clientId, String group, String userId, String extend) {
    return "{\"clientId\":" + Api.q(clientId) + ",\"groupName\":" + Api.q(group) + ",\"userId\":" + Api.q(userId)
        + ",\"extend\":" + Api.q(extend) + "}";
  }

  @Test
  void groupNameUpTo256Characters() {
    String s = server.newSystem();
    try (WsClient c = server.connect(s)) {
      assertEquals(0, server.api.post("bind_to_group", s, bindBody(c.clientId, "g".repeat(256), "", "")).code());
      Api.Response tooLong = server.api.post("bind_to_group", s, bindBody(c.clientId, "g".repeat(257), "", ""));
      assertEquals("{\"code\":-1,\"msg\":\"groupName too long (max 256 characters)\",\"data\":[]}", tooLong.body());
      Api.Response send = server.api.post("send_to_group", s, "{\"groupName\":" + Api.q("g".repeat(257)) + "}");
      assertEquals(-1, send.code());
    }
  }

  /** The groupName rules are one rule: unbind_from_group and get_online_list check its length as bind does. */
  @Test
  void groupNameLengthIsCheckedByEveryOperationThatTakesIt() {
    String s = server.newSystem();
    String tooLong = "{\"code\":-1,\"msg\":\"groupName too long (max 256 characters)\",\"data\":[]}";
    try (WsClient c = server.connect(s)) {
      assertEquals(tooLong, server.api.unbind(s, c.clientId, "g".repeat(257)).body());
      assertEquals(tooLong, server.api.onlineList(s, "g".repeat(257)).body());
      assertEquals(tooLong, server.api.sendToGroup(s, "g".repeat(257), "x").body());
      assertEquals(tooLong, server.api.bind(s, c.clientId, "g".repeat(257)).body());

      server.api.bind(s, c.clientId, "g".repeat(256)).ok();
      assertEquals(List.of(c.clientId), server.api.onlineList(s, "g".repeat(256)).ok().data().list());
      server.api.unbind(s, c.clientId, "g".repeat(256)).ok();
      assertEquals(0, server.api.onlineList(s, "g".repeat(256)).ok().data().count());
    }
  }

  /** A required field is required by every operation that takes it, with the one Go message. */
  @Test
  void requiredFieldsAreRequiredByEveryOperationThatTakesThem() {
    String s = server.newSystem();
    String noClient = "{\"code\":-1,\"msg\":\"ClientId为必填字段\",\"data\":[]}";
    String noGroup = "{\"code\":-1,\"msg\":\"GroupName为必填字段\",\"data\":[]}";
    assertEquals(noClient, server.api.bind(s, null, "g").body());
    assertEquals(noClient, server.api.unbind(s, "", "g").body());
    assertEquals(noClient, server.api.sendToClient(s, null, "x").body());
    assertEquals(noClient, server.api.closeClient(s, null).body());
    assertEquals(noGroup, server.api.bind(s, "c", null).body());
    assertEquals(noGroup, server.api.unbind(s, "c", "").body());
    assertEquals(noGroup, server.api.onlineList(s, null).body());
    assertEquals(noGroup, server.api.sendToGroup(s, null, "x").body());
  }

  @Test
  void userIdAndExtendUpTo1KiB() {
    String s = server.newSystem();
    try (WsClient c = server.connect(s)) {
      assertEquals(0, server.api.post("bind_to_group", s, bindBody(c.clientId, "g", "u".repeat(1024),
          "e".repeat(1024))).code());
      assertEquals("{\"code\":-1,\"msg\":\"userId too long (max 1024 characters)\",\"data\":[]}",
          server.api.post("bind_to_group", s, bindBody(c.clientId, "g", "u".repeat(1025), "")).body());
      assertEquals("{\"code\":-1,\"msg\":\"extend too long (max 1024 characters)\",\"data\":[]}",
          server.api.post("bind_to_group", s, bindBody(c.clientId, "g", "", "e".repeat(1025))).body());
    }
  }

  @Test
  void aClientMayBeIn128Groups() {
    String s = server.newSystem();
    try (WsClient c = server.connect(s)) {
      for (int i = 0; i < 128; i++) {
        assertEquals(0, server.api.post("bind_to_group", s, bindBody(c.clientId, "g" + i, "", "")).code());
      }
      Api.Response over = server.api.post("bind_to_group", s, bindBody(c.clientId, "g128", "", ""));
      assertEquals("{\"code\":-1,\"msg\":\"too many groups for this client (limit 128)\",\"data\":[]}", over.body());
      assertEquals(0, server.api.post("bind_to_group", s, bindBody(c.clientId, "g5", "x", "")).code(), "rebind ok");
    }
  }

  @Test
  void sendToClientsTakesUpTo10000Ids() {
    String s = server.newSystem();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) ids.add(Api.q("n1.c" + i));
    Api.Response ok = server.api.post("send_to_clients", s, "{\"clientIds\":[" + String.join(",", ids) + "]}");
    assertEquals(0, ok.code());
    assertEquals(10_000, ok.data().get("messageIds").size());
    ids.add(Api.q("n1.one-more"));
    Api.Response over = server.api.post("send_to_clients", s, "{\"clientIds\":[" + String.join(",", ids) + "]}");
    assertEquals("{\"code\":-1,\"msg\":\"too many clientIds (limit 10000)\",\"data\":[]}", over.body());
  }

  @Test
  void connectionsPerSystemAndHandshakeRateAreConfigurable() throws Exception {
    try (TestServer small = TestServer.start(Map.of("socket.limits.connections-per-system", 2))) {
      String s = small.newSystem();
      try (WsClient a = small.connect(s); WsClient b = small.connect(s);
           RawWsClient third = new RawWsClient(small.port(), "/ws?systemId=" + s, 0)) {
        RawWsClient.Frame close = third.readUntilClose();
        assertNotNull(close);
        assertEquals(1013, close.closeCode());
        String other = small.newSystem();
        try (WsClient elsewhere = small.connect(other)) {
          assertNotNull(elsewhere.clientId, "the limit is per system");
        }
      }
    }
    // one per second: the second of two back-to-back upgrades is refused unless the first took a whole second
    try (TestServer slow = TestServer.start(Map.of("socket.limits.handshakes-per-second", 1))) {
      String s = slow.newSystem();
      int refused = 0;
      List<RawWsClient> open = new ArrayList<>();
      try {
        for (int i = 0; i < 10 && refused == 0; i++) {
          try {
            open.add(new RawWsClient(slow.port(), "/ws?systemId=" + s, 0));
          } catch (java.io.IOException e) {
            assertTrue(e.getMessage().contains(" 503 "), e.getMessage());
            refused++;
          }
        }
      } finally {
        for (RawWsClient c : open) c.close();
      }
      assertEquals(1, refused, "a burst beyond the rate gets 503");
    }
  }
}

package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The compatibility switches: Go escaping and trailing newline off, membership notices off. */
class CompatSettingsTest {
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("socket.ws.escape-html", "off", "socket.ws.trailing-newline", "off",
        "socket.groups.membership-notices", "off"));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void framesArePlainJsonAndNoNoticesAreSent() {
    String s = server.newSystem();
    try (WsClient a = WsClient.open(server.wsUrl(s), Map.of()); WsClient b = server.connect(s)) {
      String welcome = a.next();
      assertTrue(welcome.startsWith("{\"code\":0,\"msg\":\"success\",\"data\":{\"clientId\":\"") && welcome.endsWith("\"}}"),
          welcome);
      a.clientId = Api.JSON.readTree(welcome).get("data").get("clientId").asText();
      for (WsClient c : new WsClient[] {a, b}) {
        server.api.bind(s, c.clientId, "g").ok();
      }
      Api.Response r = server.api.post("send_to_group", s, "{\"groupName\":\"g\",\"msg\":\"<&>\",\"data\":\"x\"}");
      String id = r.data().get("messageId").asText();
      String expected = "{\"messageId\":\"" + id + "\",\"sendUserId\":\"\",\"code\":0,\"msg\":\"<&>\",\"data\":\"x\"}";
      assertEquals(expected, a.next(), "no 1001 before the push, no escaping, no newline");
      assertEquals(expected, b.next());
      b.closeWith(1000);
      b.awaitClose();
      server.api.sendToClient(s, a.clientId, "after").ok();
      assertEquals("after", a.nextJson().get("data").asText(), "no 1002 either");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}

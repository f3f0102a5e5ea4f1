package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A push whose encoded frame could never fit a connection's outbound queue ({@code socket.ws.outbound-buffer.bytes})
 * is refused at the API with 413, before any fan-out; nobody is disconnected (issue 8, M3).
 */
class OversizePushTest {
  static final String TOO_LARGE = "{\"code\":-1,\"msg\":\"payload too large\",\"data\":[]}";
  /** 700,000 bytes of body, 4,200,000 bytes once each {@code <} is escaped to {@code \u003c}: over 4 MiB. */
  static final String HTML = "<".repeat(700_000);

  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static void bind(String s, WsClient c) {
    server.api.bind(s, c.clientId, "g").ok();
  }

  @Test
  void anOversizeGroupPushIsRefusedAndEveryMemberStays() {
    String s = server.newSystem();
    try (WsClient a = server.connect(s); WsClient b = server.connect(s)) {
      bind(s, a);
      bind(s, b);
      a.next();
      a.next();
      b.next();
      Api.Response big = server.api.post("send_to_group", s, "{\"groupName\":\"g\",\"data\":" + Api.q(HTML) + "}");
      assertEquals(413, big.status());
      assertEquals(TOO_LARGE, big.body());
      Api.Response raw = server.api.post("send_to_group", s, "{\"groupName\":\"g\",\"data\":[" + Api.q(HTML) + "]}");
      assertEquals(413, raw.status(), "a non-string data is measured after escaping too");

      Api.Response next = server.api.post("send_to_group", s, "{\"groupName\":\"g\",\"data\":\"after\"}");
      assertEquals(2, next.data().get("delivered").asInt(), "both members are still connected");
      assertEquals("after", a.nextJson().get("data").asText());
      assertEquals("after", b.nextJson().get("data").asText());
      assertFalse(a.isClosed() || b.isClosed());
    }
  }

  @Test
  void oversizeDirectPushesAreRefusedAndTheClientStays() {
    String s = server.newSystem();
    try (WsClient a = server.connect(s)) {
      String data = ",\"data\":" + Api.q(HTML) + "}";
      for (String[] call : new String[][] {
          {"send_to_client", "{\"clientId\":" + Api.q(a.clientId) + data},
          {"send_to_clients", "{\"clientIds\":[" + Api.q(a.clientId) + "]" + data},
          {"send_to_system", "{\"msg\":\"m\"" + data}}) {
        Api.Response r = server.api.post(call[0], s, call[1]);
        assertEquals(413, r.status(), call[0]);
        assertEquals(TOO_LARGE, r.body(), call[0]);
      }
      // every field counts: a msg of the same size is refused the same way
      Api.Response bigMsg = server.api.post("send_to_client", s, "{\"clientId\":" + Api.q(a.clientId)
          + ",\"msg\":" + Api.q(HTML) + "}");
      assertEquals(413, bigMsg.status());

      Api.Response next = server.api.post("send_to_client", s, "{\"clientId\":" + Api.q(a.clientId)
          + ",\"data\":\"after\"}");
      assertTrue(next.data().get("delivered").asBoolean(), "the client is still connected");
      assertEquals("after", a.nextJson().get("data").asText(), "no part of the refused pushes arrived");
    }
  }

  @Test
  void aLargePushThatFitsTheQueueIsDelivered() {
    String s = server.newSystem();
    try (WsClient a = server.connect(s)) {
      // 600,000 '<' encode to 3,600,000 bytes: under 4 MiB, so it is sent as usual
      String fits = "<".repeat(600_000);
      Api.Response r = server.api.post("send_to_client", s, "{\"clientId\":" + Api.q(a.clientId)
          + ",\"data\":" + Api.q(fits) + "}");
      assertEquals(200, r.status());
      assertTrue(r.data().get("delivered").asBoolean());
      assertEquals(fits, a.nextJson().get("data").asText());
    }
  }
}

package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.Api;
import io.pekkosocket.RawWsClient;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PROTOCOL.md's WebSocket endpoint and frame tables, against a real server with real sockets. */
class WebSocketProtocolTest {
  static TestServer server;
  static final Pattern MESSAGE_ID = Pattern.compile("[0-9a-f]{16}");

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String bind(String system, String clientId, String group, String userId, String extend) {
    Api.Reply<io.pekkosocket.wire.ApiResult.Empty> r = server.api.bind(system, clientId, group, userId, extend);
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":[]}", r.body());
    return r.body();
  }

  private static Api.Response sendToClient(String system, String clientId, String rest) {
    return server.api.post("send_to_client", system, "{\"clientId\":" + Api.q(clientId) + rest + "}");
  }

  /** A push the client must see next: proves no frame was sent in between. */
  private static void marker(String system, WsClient c, String text) {
    sendToClient(system, c.clientId, ",\"code\":7,\"data\":" + Api.q(text));
    JsonNode f = c.nextJson();
    assertEquals(7, f.get("code").asInt(), "expected the marker, got " + f);
    assertEquals(text, f.get("data").asText());
  }

  private static String messageIdOf(String frame) {
    String id = frame.substring("{\"messageId\":\"".length(), "{\"messageId\":\"".length() + 16);
    assertTrue(MESSAGE_ID.matcher(id).matches(), frame);
    return id;
  }

  @Test
  void missingSystemIdGetsMinus1001ThenClose1008() {
    WsClient c = WsClient.open("ws://127.0.0.1:" + server.port() + "/ws", Map.of());
    assertEquals("{\"messageId\":\"\",\"sendUserId\":\"\",\"code\":-1001,\"msg\":\"系统ID不能为空\",\"data\":[]}\n", c.next());
    assertEquals(1008, c.awaitClose().code());
    WsClient empty = WsClient.open("ws://127.0.0.1:" + server.port() + "/ws?systemId=", Map.of());
    assertEquals("{\"messageId\":\"\",\"sendUserId\":\"\",\"code\":-1001,\"msg\":\"系统ID不能为空\",\"data\":[]}\n",
        empty.next());
    assertEquals(1008, empty.awaitClose().code());
  }

  @Test
  void unknownSystemIdGetsMinus1001ThenClose1008() {
    WsClient c = WsClient.open(server.wsUrl("never-registered-" + System.nanoTime()), Map.of());
    assertEquals("{\"messageId\":\"\",\"sendUserId\":\"\",\"code\":-1001,\"msg\":\"系统ID无效\",\"data\":[]}\n", c.next());
    assertEquals(1008, c.awaitClose().code());
  }

  @Test
  void welcomeFrameIsExactAndClientIdIsOpaqueAndUnique() {
    String system = server.newSystem();
    try (WsClient a = WsClient.open(server.wsUrl(system), Map.of());
         WsClient b = WsClient.open(server.wsUrl(system), Map.of())) {
      String welcome = a.next();
      assertTrue(Pattern.matches("\\{\"code\":0,\"msg\":\"success\",\"data\":\\{\"clientId\":\"[A-Za-z0-9._-]{24,}\"}}\n",
          welcome), welcome);
      b.awaitWelcome();
      a.clientId = Api.JSON.readTree(welcome).get("data").get("clientId").asText();
      assertNotEquals(a.clientId, b.clientId);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void systemIdHeaderIsAcceptedWithoutQueryParameter() {
    String system = server.newSystem();
    try (WsClient c = WsClient.open("ws://127.0.0.1:" + server.port() + "/ws", Map.of("SystemId", system))) {
      c.awaitWelcome();
      Api.Response r = sendToClient(system, c.clientId, ",\"data\":\"hi\"");
      assertTrue(r.data().get("delivered").asBoolean());
      assertEquals("hi", c.nextJson().get("data").asText());
    }
  }

  @Test
  void pushRightAfterWelcomeIsNeverDropped() {
    String system = server.newSystem();
    for (int i = 0; i < 20; i++) {
      try (WsClient c = server.connect(system)) {
        Api.Response r = sendToClient(system, c.clientId, ",\"data\":\"first\"");
        assertTrue(r.data().get("delivered").asBoolean(), r.body());
        assertEquals("first", c.nextJson().get("data").asText());
      }
    }
  }

  @Test
  void pushEnvelopeHasExactKeyOrderAndStringDataStaysString() {
    String system = server.newSystem();
    try (WsClient c = server.connect(system)) {
      Api.Response r = sendToClient(system, c.clientId,
          ",\"sendUserId\":\"u1\",\"code\":200,\"msg\":\"hello\",\"data\":\"{\\\"a\\\":1}\"");
      String messageId = r.data().get("messageId").asText();
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"messageId\":\"" + messageId + "\",\"delivered\":true}}",
          r.body());
      assertEquals("{\"messageId\":\"" + messageId + "\",\"sendUserId\":\"u1\",\"code\":200,\"msg\":\"hello\","
          + "\"data\":\"{\\\"a\\\":1}\"}\n", c.next());
    }
  }

  @Test
  void nonStringDataIsForwardedAsJson() {
    String system = server.newSystem();
    try (WsClient c = server.connect(system)) {
      String id = sendToClient(system, c.clientId, ",\"code\":1,\"data\":{\"b\":[1,2.5,true,null],\"a\":\"x\"}")
          .data().get("messageId").asText();
      assertEquals("{\"messageId\":\"" + id + "\",\"sendUserId\":\"\",\"code\":1,\"msg\":\"\","
          + "\"data\":{\"b\":[1,2.5,true,null],\"a\":\"x\"}}\n", c.next());
      String id2 = sendToClient(system, c.clientId, ",\"data\":[1,\"<b>\"]").data().get("messageId").asText();
      assertEquals("{\"messageId\":\"" + id2 + "\",\"sendUserId\":\"\",\"code\":0,\"msg\":\"\","
          + "\"data\":[1,\"\\u003cb\\u003e\"]}\n", c.next());
      String id3 = sendToClient(system, c.clientId, ",\"data\":42").data().get("messageId").asText();
      assertEquals("{\"messageId\":\"" + id3 + "\",\"sendUserId\":\"\",\"code\":0,\"msg\":\"\",\"data\":42}\n",
          c.next());
      String id4 = sendToClient(system, c.clientId, "").data().get("messageId").asText();
      assertEquals("{\"messageId\":\"" + id4 + "\",\"sendUserId\":\"\",\"code\":0,\"msg\":\"\",\"data\":\"\"}\n",
          c.next());
      String id5 = sendToClient(system, c.clientId, ",\"data\":null").data().get("messageId").asText();
      assertEquals("{\"messageId\":\"" + id5 + "\",\"sendUserId\":\"\",\"code\":0,\"msg\":\"\",\"data\":\"\"}\n",
          c.next(), "null data is absent data, as in the Go services");
      String id6 = sendToClient(system, c.clientId, ",\"data\":true").data().get("messageId").asText();
      assertEquals("{\"messageId\":\"" + id6 + "\",\"sendUserId\":\"\",\"code\":0,\"msg\":\"\",\"data\":true}\n",
          c.next());
    }
  }

  @Test
  void goStyleEscapingOfHtmlCharactersAndControls() {
    String system = server.newSystem();
    try (WsClient c = server.connect(system)) {
      String id = sendToClient(system, c.clientId,
          ",\"msg\":\"<a href='x'>&</a>\",\"sendUserId\":\"é中\\u2028\",\"data\":\"tab\\tnl\\n\\u0001\\\"q\\\\\"")
          .data().get("messageId").asText();
      assertEquals("{\"messageId\":\"" + id + "\",\"sendUserId\":\"é中\\u2028\",\"code\":0,"
          + "\"msg\":\"\\u003ca href='x'\\u003e\\u0026\\u003c/a\\u003e\","
          + "\"data\":\"tab\\tnl\\n\\u0001\\\"q\\\\\"}\n", c.next());
    }
  }

  @Test
  void joinNoticeGoesToEveryMemberIncludingJoinerOnFirstBindOnly() {
    String system = server.newSystem();
    try (WsClient a = server.connect(system); WsClient b = server.connect(system)) {
      bind(system, a.clientId, "room", "alice", "ex-a");
      String aJoin = a.next();
      String id = messageIdOf(aJoin);
      assertEquals("{\"messageId\":\"" + id + "\",\"sendUserId\":\"alice\",\"code\":1001,\"msg\":\"客户端上线\","
          + "\"data\":\"{\\\"clientId\\\":\\\"" + a.clientId + "\\\",\\\"extend\\\":\\\"ex-a\\\","
          + "\\\"userId\\\":\\\"alice\\\"}\"}\n", aJoin);

      bind(system, b.clientId, "room", "bob", "");
      String bJoinAtA = a.next();
      String bJoinAtB = b.next();
      assertEquals(bJoinAtA, bJoinAtB, "one frame, same messageId for every member");
      assertEquals("{\"messageId\":\"" + messageIdOf(bJoinAtA) + "\",\"sendUserId\":\"bob\",\"code\":1001,"
          + "\"msg\":\"客户端上线\",\"data\":\"{\\\"clientId\\\":\\\"" + b.clientId + "\\\",\\\"extend\\\":\\\"\\\","
          + "\\\"userId\\\":\\\"bob\\\"}\"}\n", bJoinAtA);

      // binding again only updates userId/extend: nothing is sent
      bind(system, b.clientId, "room", "bobby", "v2");
      marker(system, a, "m1");
      marker(system, b, "m2");

      // the leave notice carries the updated userId/extend
      b.closeWith(1000);
      assertEquals(1000, b.awaitClose().code());
      JsonNode left = a.nextJson();
      assertEquals(1002, left.get("code").asInt());
      assertEquals("客户端下线", left.get("msg").asText());
      assertEquals("", left.get("sendUserId").asText());
      assertEquals("{\"clientId\":\"" + b.clientId + "\",\"extend\":\"v2\",\"userId\":\"bobby\"}",
          left.get("data").asText());
    }
  }

  @Test
  void leaveNoticeIsSentOncePerGroupForEveryKindOfDisconnect() throws Exception {
    String system = server.newSystem();
    try (WsClient watcher = server.connect(system)) {
      bind(system, watcher.clientId, "g1", "w", "");
      bind(system, watcher.clientId, "g2", "w", "");
      watcher.next();
      watcher.next();
      String[] kinds = {"close-1000", "close-4000", "abort", "close_client", "unbind"};
      for (String kind : kinds) {
        WsClient c = server.connect(system);
        bind(system, c.clientId, "g1", "u-" + kind, "");
        bind(system, c.clientId, "g2", "u-" + kind, "");
        assertEquals(1001, watcher.nextJson().get("code").asInt());
        assertEquals(1001, watcher.nextJson().get("code").asInt());
        switch (kind) {
          case "close-1000" -> c.closeWith(1000);
          case "close-4000" -> c.closeWith(4000);
          case "abort" -> c.abort();
          case "close_client" -> {
            Api.Response r = server.api.post("close_client", system, "{\"clientId\":" + Api.q(c.clientId) + "}");
            assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{}}", r.body());
            WsClient.Closed closed = c.awaitClose();
            assertEquals(1000, closed.code());
            assertEquals("closed by server", closed.reason());
          }
          case "unbind" -> {
            for (String g : new String[] {"g1", "g2"}) {
              Api.Response r = server.api.post("unbind_from_group", system,
                  "{\"clientId\":" + Api.q(c.clientId) + ",\"groupName\":\"" + g + "\"}");
              assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":[]}", r.body());
            }
          }
          default -> throw new IllegalStateException(kind);
        }
        JsonNode first = watcher.nextJson();
        JsonNode second = watcher.nextJson();
        assertEquals(1002, first.get("code").asInt(), kind);
        assertEquals(1002, second.get("code").asInt(), kind);
        assertTrue(first.get("data").asText().contains(c.clientId), kind);
        assertTrue(second.get("data").asText().contains(c.clientId), kind);
        marker(system, watcher, "after-" + kind); // exactly once per group: nothing further
        if (kind.equals("unbind")) {
          // unbinding again, or closing now, sends nothing more: the client is in no group
          c.closeWith(1000);
          c.awaitClose();
          marker(system, watcher, "after-unbind-close");
        }
        c.close();
      }
    }
  }

  @Test
  void leaverGetsNoNoticeAndGroupsDisappearWhenEmpty() {
    String system = server.newSystem();
    try (WsClient a = server.connect(system); WsClient b = server.connect(system)) {
      bind(system, a.clientId, "solo", "", "");
      a.next();
      server.api.unbind(system, a.clientId, "solo").ok();
      marker(system, a, "no-1002-for-the-leaver");
      Api.Response groups = server.api.post("get_all_groups", system, "{}");
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{}}", groups.body());
    }
  }

  @Test
  void textAndBinaryFramesFromClientsAreIgnoredAndPingsAnswered() {
    String system = server.newSystem();
    try (WsClient c = server.connect(system)) {
      c.sendText("garbage {not json");
      c.sendBinary(new byte[] {0, 1, 2, (byte) 0xFF});
      ByteBuffer pong = c.ping(ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8)));
      assertEquals("abc", StandardCharsets.UTF_8.decode(pong).toString());
      marker(system, c, "still-alive");
    }
  }

  @Test
  void frameOverMaxFrameClosesWith1009AndCountsAsDisconnect() throws Exception {
    String system = server.newSystem();
    try (WsClient watcher = server.connect(system);
         RawWsClient raw = new RawWsClient(server.port(), "/ws?systemId=" + system, 0)) {
      String clientId = raw.welcomeClientId();
      bind(system, watcher.clientId, "g", "", "");
      bind(system, clientId, "g", "", "");
      watcher.next();
      watcher.next();
      raw.send(1, true, new byte[8192]); // exactly the limit: fine
      raw.send(2, true, new byte[8193]);
      RawWsClient.Frame close = raw.readUntilClose();
      assertNotNull(close);
      assertEquals(1009, close.closeCode());
      assertEquals(1002, watcher.nextJson().get("code").asInt());
    }
  }

  @Test
  void fragmentedMessageOverMaxFrameClosesWith1009() throws Exception {
    String system = server.newSystem();
    try (RawWsClient raw = new RawWsClient(server.port(), "/ws?systemId=" + system, 0)) {
      raw.read();
      raw.send(1, false, new byte[5000]);
      raw.send(0, true, new byte[5000]);
      RawWsClient.Frame close = raw.readUntilClose();
      assertNotNull(close);
      assertEquals(1009, close.closeCode());
    }
  }
}

package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import io.pekkosocket.auth.Tokens;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code POST /api/batch} (PROTOCOL.md, the batch row and its notes), over real HTTP and real sockets. */
class BatchTest {
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("socket.api.max-batch", 5));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static Api.Response batch(Api api, String systemId, String commands) {
    return api.post("batch", systemId, "{\"commands\":" + commands + "}");
  }

  @Test
  void commandsRunInOrderEachSeeingTheOnesBeforeAndAnswerOneEnvelopeEach() throws Exception {
    String s = server.newSystem();
    try (WsClient a = server.connect(s); WsClient b = server.connect(s)) {
      Api.Response r = batch(server.api, s, "["
          + "{\"op\":\"bind_to_group\",\"clientId\":" + Api.q(a.clientId) + ",\"groupName\":\"g\",\"userId\":\"ua\"},"
          + "{\"op\":\"send_to_group\",\"groupName\":\"g\",\"code\":7,\"msg\":\"m\",\"data\":\"first\"},"
          + "{\"op\":\"bind_to_group\",\"clientId\":" + Api.q(b.clientId) + ",\"groupName\":\"g\"},"
          + "{\"op\":\"send_to_client\",\"clientId\":" + Api.q(b.clientId) + ",\"data\":{\"n\":1}},"
          + "{\"op\":\"unbind_from_group\",\"clientId\":" + Api.q(a.clientId) + ",\"groupName\":\"g\"}]");
      assertEquals(200, r.status(), r.body());
      JsonNode results = r.data().get("results");
      assertEquals(5, results.size());
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":[]}", results.get(0).toString());
      assertEquals(1, results.get(1).get("data").get("delivered").asInt(), "the bind before it has taken effect");
      assertEquals(1, results.get(3).get("data").get("delivered").asInt());
      assertTrue(r.body().startsWith("{\"code\":0,\"msg\":\"success\",\"data\":{\"results\":[{\"code\":0,"), r.body());

      assertEquals(1001, a.nextJson().get("code").asInt());
      JsonNode first = a.nextJson();
      assertEquals("first", first.get("data").asText());
      assertEquals(results.get(1).get("data").get("messageId").asText(), first.get("messageId").asText());
      assertEquals(1001, a.nextJson().get("code").asInt(), "b's join");
      assertEquals(1001, b.nextJson().get("code").asInt(), "b's own 1001; b joined after 'first'");
      assertEquals("{\"n\":1}", b.nextJson().get("data").toString());
      JsonNode leave = b.nextJson();
      assertEquals(1002, leave.get("code").asInt(), "a's unbind, last");
      assertEquals(List.of(b.clientId), server.api.onlineList(s, "g").ok().data().list());
    }
  }

  @Test
  void aBrokenCommandFailsAloneAndTheOthersRun() throws Exception {
    String s = server.newSystem();
    try (WsClient a = server.connect(s)) {
      Api.Response r = batch(server.api, s, "["
          + "{\"op\":\"no_such_op\"},"
          + "{\"op\":\"send_to_client\",\"data\":\"x\"},"
          + "42,"
          + "{\"op\":\"register\",\"systemId\":\"x\"},"
          + "{\"op\":\"send_to_client\",\"clientId\":" + Api.q(a.clientId) + ",\"data\":\"ok\"}]");
      assertEquals(200, r.status(), r.body());
      JsonNode results = r.data().get("results");
      assertEquals("{\"code\":-1,\"msg\":\"op not allowed in a batch: no_such_op\",\"data\":[]}",
          results.get(0).toString());
      assertEquals("{\"code\":-1,\"msg\":\"ClientId为必填字段\",\"data\":[]}", results.get(1).toString());
      assertEquals("{\"code\":-1,\"msg\":\"a command must be an object\",\"data\":[]}", results.get(2).toString());
      assertEquals("op not allowed in a batch: register", results.get(3).get("msg").asText(), "admin operations too");
      assertTrue(results.get(4).get("data").get("delivered").asBoolean());
      assertEquals("ok", a.nextJson().get("data").asText());

      Api.Response typed = batch(server.api, s, "[{\"op\":\"send_to_client\",\"clientId\":7},{\"op\":5},"
          + "{\"op\":\"get_all_groups\"},{\"op\":\"send_to_system\",\"data\":\"all\"}]");
      JsonNode t = typed.data().get("results");
      assertEquals(-1, t.get(0).get("code").asInt());
      assertTrue(t.get(0).get("msg").asText().contains("clientId"), t.get(0).toString());
      assertEquals(-1, t.get(1).get("code").asInt(), "op of the wrong type");
      assertEquals("op not allowed in a batch: get_all_groups", t.get(2).get("msg").asText(), "reads are not batched");
      assertEquals(1, t.get(3).get("data").get("delivered").asInt());
      assertEquals("all", a.nextJson().get("data").asText());
    }
  }

  @Test
  void theBatchItselfIsA400WhenItsShapeIsWrong() {
    String s = server.newSystem();
    String items = "{\"op\":\"send_to_system\"}";
    for (String body : List.of("{\"commands\":[]}", "{}", "{\"commands\":{}}", "{\"commands\":\"x\"}", "[]",
        "{\"commands\":[" + String.join(",", java.util.Collections.nCopies(6, items)) + "]}")) {
      Api.Response r = server.api.post("batch", s, body);
      assertEquals(400, r.status(), body + " → " + r.body());
      assertEquals(-1, r.code());
    }
    assertEquals("{\"code\":-1,\"msg\":\"too many commands (limit 5)\",\"data\":[]}",
        server.api.post("batch", s, "{\"commands\":[" + String.join(",", java.util.Collections.nCopies(6, items))
            + "]}").body());
    assertEquals(200, server.api.post("batch", s, "{\"commands\":[" + String.join(",",
        java.util.Collections.nCopies(5, items)) + "]}").status(), "the limit itself is fine");
  }

  @Test
  void theSameAuthAsSingleCallsForTheBatchsOneSystem() {
    String mine = server.newSystem();
    String theirs = server.newSystem();
    String body = "[{\"op\":\"send_to_system\",\"data\":\"x\"}]";
    Api asMine = server.api.withToken(TestServer.TOKENS.issue(Tokens.SYSTEM, mine, null, Duration.ofHours(1)));
    assertEquals(200, batch(asMine, mine, body).status());
    assertEquals(403, batch(asMine, theirs, body).status(), "another system's batch");
    Api asClient = server.api.withToken(TestServer.TOKENS.issue(Tokens.CLIENT, mine, "u", Duration.ofHours(1)));
    assertEquals(403, batch(asClient, mine, body).status());
    assertEquals(401, batch(server.api.withToken("nope"), mine, body).status());
    assertEquals("{\"code\":-1,\"msg\":\"系统ID不能为空\",\"data\":[]}", batch(server.api, null, body).body());
    JsonNode unknown = batch(server.api, "no-such-system", body).data().get("results");
    assertEquals("系统ID无效", unknown.get(0).get("msg").asText(), "each command answered as a single call would be");
  }

  @Test
  void aBatchCountsAsItsCommandsAgainstTheInFlightLimit() throws Exception {
    try (TestServer small = TestServer.start(Map.of("socket.limits.commands-in-flight-per-system", 3))) {
      String s = small.newSystem();
      List<String> four = new ArrayList<>();
      for (int i = 0; i < 4; i++) four.add("{\"op\":\"send_to_system\",\"data\":\"x\"}");
      Api.Response tooMany = batch(small.api, s, "[" + String.join(",", four) + "]");
      assertEquals(503, tooMany.status(), "four commands never fit three permits");
      assertEquals(200, batch(small.api, s, "[" + String.join(",", four.subList(0, 3)) + "]").status());
      assertEquals(200, batch(small.api, s, "[" + String.join(",", four.subList(0, 3)) + "]").status(),
          "the permits came back");
    }
  }
}

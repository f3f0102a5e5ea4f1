package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PROTOCOL.md's HTTP API tables: every operation and every error row, with exact bodies. */
class HttpApiTest {
  static TestServer server;
  static final String OK_LIST = "{\"code\":0,\"msg\":\"success\",\"data\":[]}";

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static Api.Response post(String op, String system, String body) {
    return server.api.post(op, system, body);
  }

  private static void assertError(Api.Response r, int status, String msg) {
    assertEquals(status, r.status(), r.body());
    assertEquals("{\"code\":-1,\"msg\":" + Api.q(msg) + ",\"data\":[]}", r.body());
  }

  @Test
  void registerSucceedsOnceThenReportsDuplicate() {
    String id = "reg-" + System.nanoTime();
    Api.Response first = post("register", null, "{\"systemId\":" + Api.q(id) + "}");
    assertEquals(200, first.status());
    assertEquals(OK_LIST, first.body());
    assertError(post("register", null, "{\"systemId\":" + Api.q(id) + "}"), 200, "该系统ID已被注册");
    assertError(post("register", null, "{}"), 200, "SystemId为必填字段");
    assertError(post("register", null, "{\"systemId\":\"\"}"), 200, "SystemId为必填字段");
  }

  @Test
  void registerValidatesSystemIdShape() {
    assertEquals(-1, post("register", null, "{\"systemId\":" + Api.q("x".repeat(129)) + "}").code());
    assertEquals(-1, post("register", null, "{\"systemId\":\"a\\u0000b\"}").code());
    assertEquals(0, post("register", null, "{\"systemId\":" + Api.q("y".repeat(127) + System.nanoTime() % 10)
        + "}").code());
  }

  @Test
  void responsesAreJsonWithContentType() {
    HttpRequest req = HttpRequest.newBuilder(server.api.uri("/api/get_all_groups"))
        .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString("{}")).build();
    try {
      var r = java.net.http.HttpClient.newHttpClient().send(req, java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void systemIdHeaderMissingOrUnknown() {
    for (String op : List.of("send_to_client", "send_to_clients", "send_to_group", "send_to_system",
        "bind_to_group", "unbind_from_group", "get_online_list", "get_all_groups", "close_client")) {
      String body = "{\"clientId\":\"c\",\"clientIds\":[\"c\"],\"groupName\":\"g\"}";
      assertError(post(op, null, body), 200, "系统ID不能为空");
      assertError(post(op, "", body), 200, "系统ID不能为空");
      assertError(post(op, "nope-" + System.nanoTime(), body), 200, "系统ID无效");
    }
  }

  @Test
  void requiredFieldsUseGoValidatorMessages() {
    String s = server.newSystem();
    assertError(post("send_to_client", s, "{}"), 200, "ClientId为必填字段");
    assertError(post("send_to_clients", s, "{}"), 200, "ClientIds为必填字段");
    assertError(post("send_to_clients", s, "{\"clientIds\":null}"), 200, "ClientIds为必填字段");
    assertError(post("send_to_group", s, "{\"groupName\":\"\"}"), 200, "GroupName为必填字段");
    assertError(post("bind_to_group", s, "{\"groupName\":\"g\"}"), 200, "ClientId为必填字段");
    assertError(post("bind_to_group", s, "{\"clientId\":\"c\"}"), 200, "GroupName为必填字段");
    assertError(post("unbind_from_group", s, "{\"groupName\":\"g\"}"), 200, "ClientId为必填字段");
    assertError(post("unbind_from_group", s, "{\"clientId\":\"c\"}"), 200, "GroupName为必填字段");
    assertError(post("get_online_list", s, "{}"), 200, "GroupName为必填字段");
    assertError(post("close_client", s, "{\"clientId\":null}"), 200, "ClientId为必填字段");
  }

  @Test
  void badJsonAndWrongTypesAre400WithEnvelope() {
    String s = server.newSystem();
    for (String body : List.of("{", "not json", "[1,2]", "\"str\"", "{\"clientId\":}")) {
      Api.Response r = post("send_to_client", s, body);
      assertEquals(400, r.status(), body);
      assertEquals(-1, r.code());
      assertFalse(r.json().get("msg").asText().isEmpty());
    }
    Api.Response wrong = post("send_to_client", s, "{\"clientId\":5}");
    assertEquals(400, wrong.status());
    assertTrue(wrong.json().get("msg").asText().contains("clientId"), wrong.body());
    assertEquals(400, post("send_to_client", s, "{\"clientId\":\"c\",\"code\":\"7\"}").status());
    assertEquals(400, post("send_to_client", s, "{\"clientId\":\"c\",\"code\":1.5}").status());
    assertEquals(400, post("send_to_client", s, "{\"clientId\":\"c\",\"code\":99999999999999999999999}").status());
    assertEquals(400, post("send_to_clients", s, "{\"clientIds\":\"c\"}").status());
    assertEquals(400, post("send_to_clients", s, "{\"clientIds\":[1]}").status());
    assertEquals(400, post("bind_to_group", s, "{\"clientId\":\"c\",\"groupName\":\"g\",\"userId\":1}").status());
    assertEquals(400, post("register", null, "{\"systemId\":[\"x\"]}").status());
  }

  @Test
  void wrongMethodIs405AndUnknownOperationIs404() {
    Api.Response get = server.api.get("/api/send_to_client");
    assertError(get, 405, "method not allowed");
    Api.Response put = server.api.send(HttpRequest.newBuilder(server.api.uri("/api/register"))
        .PUT(HttpRequest.BodyPublishers.ofString("{}")).build());
    assertError(put, 405, "method not allowed");
    Api.Response unknown = post("no_such_op", null, "{}");
    assertEquals(404, unknown.status());
    assertEquals(-1, unknown.code());
  }

  @Test
  void bodyOverLimitIs413() {
    String s = server.newSystem();
    String big = "{\"data\":\"" + "a".repeat(1024 * 1024) + "\"}";
    assertError(post("send_to_system", s, big), 413, "payload too large");
    // just under the limit is fine
    String fits = "{\"data\":\"" + "a".repeat(1024 * 1024 - 20) + "\"}";
    assertEquals(200, post("send_to_system", s, fits).status());
  }

  @Test
  void keysAreCaseInsensitiveAndUnknownKeysIgnored() {
    String s = server.newSystem();
    try (WsClient c = server.connect(s)) {
      Api.Response r = post("SEND_TO_CLIENT".toLowerCase(), s, "{\"CLIENTID\":" + Api.q(c.clientId)
          + ",\"Code\":3,\"MSG\":\"m\",\"SendUserID\":\"u\",\"Data\":\"d\",\"extra\":{\"x\":1}}");
      assertTrue(r.data().get("delivered").asBoolean(), r.body());
      JsonNode f = c.nextJson();
      assertEquals(3, f.get("code").asInt());
      assertEquals("m", f.get("msg").asText());
      assertEquals("u", f.get("sendUserId").asText());
      assertEquals("d", f.get("data").asText());
    }
  }

  @Test
  void sendToUnknownClientAnswersSuccessNotDelivered() {
    String s = server.newSystem();
    Api.Response r = post("send_to_client", s, "{\"clientId\":\"n1.doesnotexist\",\"data\":\"x\"}");
    assertEquals(0, r.code());
    assertFalse(r.data().get("delivered").asBoolean());
    assertTrue(r.data().get("messageId").asText().matches("[0-9a-f]{16}"));
  }

  @Test
  void sendToClientsGivesEachRecipientItsOwnMessageId() {
    String s = server.newSystem();
    try (WsClient a = server.connect(s); WsClient b = server.connect(s)) {
      Api.Response r = post("send_to_clients", s, "{\"clientIds\":[" + Api.q(a.clientId) + "," + Api.q(b.clientId)
          + ",\"n1.gone\"],\"code\":5,\"data\":\"hey\"}");
      JsonNode data = r.data();
      assertEquals(2, data.get("delivered").asInt(), r.body());
      JsonNode ids = data.get("messageIds");
      assertEquals(3, ids.size());
      String idA = ids.get(a.clientId).asText();
      String idB = ids.get(b.clientId).asText();
      assertNotEquals(idA, idB);
      assertEquals(idA, a.nextJson().get("messageId").asText());
      assertEquals(idB, b.nextJson().get("messageId").asText());
      Api.Response empty = post("send_to_clients", s, "{\"clientIds\":[]}");
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"messageIds\":{},\"delivered\":0}}", empty.body());
    }
  }

  @Test
  void sendToGroupDeliversOneMessageIdToEveryMember() {
    String s = server.newSystem();
    try (WsClient a = server.connect(s); WsClient b = server.connect(s); WsClient outsider = server.connect(s)) {
      for (WsClient c : List.of(a, b)) {
        post("bind_to_group", s, "{\"clientId\":" + Api.q(c.clientId) + ",\"groupName\":\"room:1\"}");
      }
      a.next();
      a.next();
      b.next();
      Api.Response r = post("send_to_group", s, "{\"groupName\":\"room:1\",\"code\":9,\"data\":\"g\"}");
      assertEquals(2, r.data().get("delivered").asInt());
      String id = r.data().get("messageId").asText();
      String fa = a.next();
      assertEquals(fa, b.next());
      assertEquals(id, Api.JSON.readTree(fa).get("messageId").asText());
      Api.Response none = post("send_to_group", s, "{\"groupName\":\"room:2\",\"data\":\"g\"}");
      assertEquals(0, none.code());
      assertEquals(0, none.data().get("delivered").asInt());
      // the outsider got nothing: its next frame is the one sent to it now
      post("send_to_client", s, "{\"clientId\":" + Api.q(outsider.clientId) + ",\"data\":\"only\"}");
      assertEquals("only", outsider.nextJson().get("data").asText());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void sendToSystemReachesEveryClientOfTheSystemOnly() {
    String s = server.newSystem();
    String other = server.newSystem();
    try (WsClient a = server.connect(s); WsClient b = server.connect(s); WsClient x = server.connect(other)) {
      Api.Response r = post("send_to_system", s, "{\"code\":2,\"msg\":\"all\",\"data\":{\"k\":1}}");
      assertEquals(2, r.data().get("delivered").asInt());
      String id = r.data().get("messageId").asText();
      assertEquals(id, a.nextJson().get("messageId").asText());
      assertEquals(id, b.nextJson().get("messageId").asText());
      post("send_to_client", other, "{\"clientId\":" + Api.q(x.clientId) + ",\"data\":\"mine\"}");
      assertEquals("mine", x.nextJson().get("data").asText());
    }
  }

  @Test
  void onlineListAndAllGroups() {
    String s = server.newSystem();
    try (WsClient a = server.connect(s); WsClient b = server.connect(s)) {
      post("bind_to_group", s, "{\"clientId\":" + Api.q(a.clientId) + ",\"groupName\":\"g1\"}");
      post("bind_to_group", s, "{\"clientId\":" + Api.q(b.clientId) + ",\"groupName\":\"g1\"}");
      post("bind_to_group", s, "{\"clientId\":" + Api.q(b.clientId) + ",\"groupName\":\"g2\"}");
      Api.Response list = post("get_online_list", s, "{\"groupName\":\"g1\"}");
      assertEquals(2, list.data().get("count").asInt());
      Set<String> members = new TreeSet<>();
      list.data().get("list").forEach(n -> members.add(n.asText()));
      assertEquals(new TreeSet<>(List.of(a.clientId, b.clientId)), members);
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"count\":0,\"list\":[]}}",
          post("get_online_list", s, "{\"groupName\":\"empty\"}").body());
      Api.Response all = post("get_all_groups", s, "{\"clientId\":\"ignored\"}");
      assertEquals(2, all.data().size());
      assertEquals(2, all.data().get("g1").size());
      assertEquals("[" + Api.q(b.clientId) + "]", all.data().get("g2").toString());
    }
  }

  @Test
  void bindingAnUnknownClientChangesNothing() {
    String s = server.newSystem();
    assertEquals(OK_LIST, post("bind_to_group", s, "{\"clientId\":\"n1.ghost\",\"groupName\":\"g\"}").body());
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"count\":0,\"list\":[]}}",
        post("get_online_list", s, "{\"groupName\":\"g\"}").body());
  }

  @Test
  void healthEndpoints() {
    assertEquals(200, server.api.get("/health/live").status());
    assertEquals(200, server.api.get("/health/ready").status());
  }
}

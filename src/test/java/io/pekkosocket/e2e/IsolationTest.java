package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A client or group of another system behaves exactly like one that does not exist. */
class IsolationTest {
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void anotherSystemsClientCannotBeReachedBoundListedOrClosed() {
    String mine = server.newSystem();
    String theirs = server.newSystem();
    try (WsClient victim = server.connect(theirs); WsClient peer = server.connect(theirs)) {
      String id = Api.q(victim.clientId);
      server.api.post("bind_to_group", theirs, "{\"clientId\":" + id + ",\"groupName\":\"secret\"}");
      server.api.bind(theirs, peer.clientId, "secret").ok();
      victim.next();
      victim.next();
      peer.next();

      // every answer equals the answer for an id that never existed
      Api.Response send = server.api.post("send_to_client", mine, "{\"clientId\":" + id + ",\"data\":\"x\"}");
      assertFalse(send.data().get("delivered").asBoolean());
      Api.Response sends = server.api.post("send_to_clients", mine, "{\"clientIds\":[" + id + "]}");
      assertEquals(0, sends.data().get("delivered").asInt());
      Api.Response group = server.api.post("send_to_group", mine, "{\"groupName\":\"secret\",\"data\":\"x\"}");
      assertEquals(0, group.data().get("delivered").asInt());
      Api.Response all = server.api.post("send_to_system", mine, "{\"data\":\"x\"}");
      assertEquals(0, all.data().get("delivered").asInt());
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"count\":0,\"list\":[]}}",
          server.api.post("get_online_list", mine, "{\"groupName\":\"secret\"}").body());
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{}}",
          server.api.post("get_all_groups", mine, "{}").body());
      server.api.post("bind_to_group", mine, "{\"clientId\":" + id + ",\"groupName\":\"mine\"}");
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{}}",
          server.api.post("get_all_groups", mine, "{}").body());
      server.api.post("unbind_from_group", mine, "{\"clientId\":" + id + ",\"groupName\":\"secret\"}");
      server.api.post("close_client", mine, "{\"clientId\":" + id + "}");

      // the victim is untouched: still connected, still in its group, and saw nothing of the above
      server.api.post("send_to_client", theirs, "{\"clientId\":" + id + ",\"data\":\"legit\"}");
      assertEquals("legit", victim.nextJson().get("data").asText());
      assertFalse(victim.isClosed());
      assertEquals(2, server.api.post("get_online_list", theirs, "{\"groupName\":\"secret\"}")
          .data().get("count").asInt());
      server.api.sendToClient(theirs, peer.clientId, "p").ok();
      assertEquals("p", peer.nextJson().get("data").asText(), "the peer saw no 1002 and nothing else");
    }
  }
}

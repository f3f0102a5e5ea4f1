package io.pekkosocket.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Three nodes in one JVM: what any node answers, for clients on any node (design checks C1, C3, C4, C5, C9). */
class ClusterTest {
  static ClusterNodes cluster;

  @BeforeAll
  static void start() {
    cluster = ClusterNodes.start(3);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static TestServer n(int i) {
    return cluster.node(i);
  }

  /** C1: a system registered through one node accepts connections on every node at once. */
  @Test
  void registeredOnOneNodeAcceptsConnectionsOnEvery() {
    for (int i = 0; i < 20; i++) {
      String system = n(1 + i % 3).newSystem();
      try (WsClient a = n(1 + (i + 1) % 3).connect(system); WsClient b = n(1 + (i + 2) % 3).connect(system)) {
        assertTrue(a.clientId.startsWith("n" + (1 + (i + 1) % 3) + "."), a.clientId);
        assertTrue(b.clientId.startsWith("n" + (1 + (i + 2) % 3) + "."), b.clientId);
      }
    }
  }

  /** C4: a push through any node reaches a client on another; crafted and stale ids deliver nothing. */
  @Test
  void unicastAcrossNodes() {
    String system = n(1).newSystem();
    try (WsClient c = n(3).connect(system)) {
      Api.Reply<io.pekkosocket.wire.ApiResult.ClientDelivery> r = n(1).api.sendToClient(system, c.clientId, "hello").ok();
      assertTrue(r.data().delivered());
      JsonNode frame = c.nextJson();
      assertEquals(r.data().messageId(), frame.get("messageId").asText());
      assertEquals("hello", frame.get("data").asText());
      // close_client through another node
      n(2).api.closeClient(system, c.clientId).ok();
      assertEquals(1000, c.awaitClose().code());
    }
    String forged = "zz.AAAAAAAAAAAAAAAAAAAAAA";
    Api.Response r = n(2).api.post("send_to_client", system, "{\"clientId\":\"" + forged + "\",\"data\":\"x\"}");
    assertEquals(200, r.status());
    assertFalse(r.data().get("delivered").asBoolean());
    assertFalse(r.body().contains("partial"), r.body());
    Api.Response stale = n(2).api.post("send_to_client", system, "{\"clientId\":\"n3.AAAAAAAAAAAAAAAAAAAAAA\",\"data\":\"x\"}");
    assertFalse(stale.data().get("delivered").asBoolean(), stale.body());
  }

  /** C3: a bind through one node, then at once a group send through another, reaches the new member. */
  @Test
  void bindThenSendThroughOtherNodes() {
    String system = n(1).newSystem();
    try (WsClient c = n(3).connect(system)) {
      for (int i = 0; i < 100; i++) {
        String group = "g" + i;
        n(2).api.bind(system, c.clientId, group).ok();
        var sent = n(1).api.sendToGroup(system, group, "m" + i).ok();
        assertEquals(1, sent.data().delivered(), sent.body());
        assertEquals("客户端上线", c.nextJson().get("msg").asText());
        JsonNode push = c.nextJson();
        assertEquals("m" + i, push.get("data").asText());
        assertEquals(sent.data().messageId(), push.get("messageId").asText());
      }
    }
  }

  /** C5: lists merge every node's members in the group's one join order; all groups too. */
  @Test
  void mergedListsInJoinOrder() {
    String system = n(1).newSystem();
    try (WsClient a = n(2).connect(system); WsClient b = n(3).connect(system); WsClient c = n(1).connect(system)) {
      n(1).api.bind(system, b.clientId, "room").ok();
      n(3).api.bind(system, a.clientId, "room").ok();
      n(2).api.bind(system, c.clientId, "room").ok();
      n(2).api.bind(system, c.clientId, "other").ok();
      for (int i = 1; i <= 3; i++) {
        var list = n(i).api.onlineList(system, "room").ok();
        assertEquals(List.of(b.clientId, a.clientId, c.clientId), list.data().list(), list.body());
        assertEquals(3, list.data().count());
        assertFalse(list.body().contains("partial"), list.body());
      }
      var all = n(3).api.allGroups(system).ok();
      assertEquals(List.of(b.clientId, a.clientId, c.clientId), all.data().groups().get("room"));
      assertEquals(List.of(c.clientId), all.data().groups().get("other"));
      // unbind through a third node: gone from the list, 1002 to the others
      n(3).api.unbind(system, a.clientId, "room").ok();
      assertEquals(List.of(b.clientId, c.clientId), n(1).api.onlineList(system, "room").ok().data().list());
    }
  }

  /** send_to_system reaches every node's clients and counts them all. */
  @Test
  void systemPushReachesEveryNode() {
    String system = n(1).newSystem();
    try (WsClient a = n(1).connect(system); WsClient b = n(2).connect(system); WsClient c = n(3).connect(system)) {
      var sent = n(2).api.sendToSystem(system, "all").ok();
      assertEquals(3, sent.data().delivered(), sent.body());
      for (WsClient x : List.of(a, b, c)) assertEquals("all", x.nextJson().get("data").asText());
      var many = n(3).api.sendToClients(system, List.of(a.clientId, b.clientId, c.clientId, "n9.nobody"), "some").ok();
      assertEquals(3, many.data().delivered(), many.body());
      for (WsClient x : List.of(a, b, c)) {
        JsonNode f = x.nextJson();
        assertEquals(many.data().messageIds().get(x.clientId), f.get("messageId").asText());
      }
    }
  }

  /** C9: the largest push the API takes crosses nodes to a group's members everywhere. */
  @Test
  void largestPushCrossesNodes() {
    String system = n(1).newSystem();
    String big = "x".repeat(1_000_000);
    try (WsClient a = n(1).connect(system); WsClient b = n(2).connect(system); WsClient c = n(3).connect(system)) {
      for (WsClient x : List.of(a, b, c)) n(1).api.bind(system, x.clientId, "big").ok();
      var sent = n(3).api.sendToGroup(system, "big", big).ok();
      assertEquals(3, sent.data().delivered(), sent.body());
      for (WsClient x : List.of(a, b, c)) {
        JsonNode f = x.nextJson();
        while (f.get("code").asInt() == 1001) f = x.nextJson(); // the joins' notices may still be arriving
        assertEquals(sent.data().messageId(), f.get("messageId").asText());
        assertEquals(big.length(), f.get("data").asText().length());
      }
    }
  }
}

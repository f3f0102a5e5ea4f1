package io.pekkosocket.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A node cut off from the others (Artery blackholed both ways, in this JVM): answers that need it say so and come
 * within the gather timeout (C5); the majority downs it (Split Brain Resolver) and its members leave their groups
 * with 1002s to the members on the other nodes (C6); calls on the others keep answering. And a node whose
 * socket.node-id another node has already is refused (C8).
 */
class ClusterFailureTest {
  ClusterNodes cluster;

  @AfterEach
  void stop() {
    if (cluster != null) cluster.close();
  }

  @Test
  void aLostNodesMembersLeaveAndAnswersSayWhoIsMissing() throws Exception {
    cluster = ClusterNodes.start(3);
    TestServer n1 = cluster.node(1);
    TestServer n2 = cluster.node(2);
    TestServer n3 = cluster.node(3);
    String system = n1.newSystem();
    try (WsClient a = n1.connect(system); WsClient b = n2.connect(system); WsClient c = n3.connect(system);
         WsClient c2 = n3.connect(system)) {
      // groups whose sequencers land on different nodes, each with members on all three
      List<String> groups = List.of("g1", "g2", "g3", "g4", "g5", "g6");
      for (String g : groups) {
        for (WsClient x : List.of(a, b, c, c2)) n1.api.bind(system, x.clientId, g, "u-" + x.clientId, "").ok();
      }
      a.drain();
      b.drain();

      ClusterNodes.blackhole(n1, n3, true);
      ClusterNodes.blackhole(n2, n3, true);
      long t0 = System.nanoTime();
      Api.Response list = n1.api.post("get_online_list", system, "{\"groupName\":\"g1\"}");
      long took = System.nanoTime() - t0;
      assertEquals(200, list.status(), list.body());
      assertTrue(list.body().endsWith(",\"partial\":true,\"missingNodes\":[\"n3\"]}"), list.body());
      assertEquals(Set.of(a.clientId, b.clientId), new HashSet<>(Api.JSON.convertValue(list.data().get("list"), List.class)));
      assertTrue(took < Duration.ofMillis(1500 + 1000).toNanos(), "took " + took / 1_000_000 + " ms");
      // a client on a reachable node is served as before
      assertTrue(n2.api.sendToClient(system, a.clientId, "still here").ok().data().delivered());
      assertEquals("still here", a.nextJson().get("data").asText());

      // the majority downs n3: its members leave every group, with a 1002 to the members on n1 and n2
      // (a 1002 names the client, not the group: each of n3's clients leaves each of the six groups)
      for (WsClient survivor : List.of(a, b)) {
        java.util.Map<String, Integer> left = new java.util.HashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        while (left.getOrDefault(c.clientId, 0) < groups.size() || left.getOrDefault(c2.clientId, 0) < groups.size()) {
          assertTrue(System.nanoTime() < deadline, "1002s missing at " + survivor.clientId + ": got " + left);
          String line = survivor.poll(Duration.ofMillis(500));
          if (line == null) continue; // the cluster may take a while (e.g. its shard coordinator was on n3)
          JsonNode f = Api.JSON.readTree(line);
          if (f.get("code").asInt() != 1002) continue;
          JsonNode data = f.get("data").isTextual() ? Api.JSON.readTree(f.get("data").asText()) : f.get("data");
          left.merge(data.get("clientId").asText(), 1, Integer::sum);
        }
        assertEquals(java.util.Map.of(c.clientId, groups.size(), c2.clientId, groups.size()), left);
      }
      // lists no longer have n3's clients, and are whole again (n3 is no longer a member)
      for (String g : groups) {
        Api.Response after = n2.api.post("get_online_list", system, "{\"groupName\":\"" + g + "\"}");
        assertFalse(after.body().contains("partial"), after.body());
        assertEquals(2, after.data().get("count").asInt(), after.body());
      }
      // and group sends through either survivor reach both survivors
      for (String g : groups) {
        var sent = n2.api.sendToGroup(system, g, "after " + g).ok();
        assertEquals(2, sent.data().delivered(), sent.body());
        assertFalse(sent.body().contains("partial"), sent.body());
      }
    }
  }

  @Test
  void aSecondNodeWithTheSameNodeIdIsRefused() throws Exception {
    cluster = ClusterNodes.start(2);
    TestServer twin;
    try {
      twin = cluster.startNode("n2");
    } catch (IllegalStateException refusedAtStart) {
      return; // it may be refused before its HTTP port is even bound
    }
    try {
      assertTrue(twin.server.system().getWhenTerminated().toCompletableFuture()
          .get(60, java.util.concurrent.TimeUnit.SECONDS) != null);
      assertFalse(twin.server.ready());
      // the first n2 still serves
      String system = cluster.node(1).newSystem();
      try (WsClient x = cluster.node(2).connect(system)) {
        assertTrue(cluster.node(1).api.sendToClient(system, x.clientId, "hi").ok().data().delivered());
      }
    } finally {
      twin.server.system().terminate();
    }
  }
}

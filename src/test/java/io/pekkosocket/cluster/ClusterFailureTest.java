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
      // first (n3 is not even unreachable yet, let alone downed): a push to a client of the cut-off node waits on n1
      // for an answer that cannot come: not delivered, partial, within the gather timeout
      long t0 = System.nanoTime();
      var cut = n1.api.sendToClient(system, c.clientId, "cut off").ok();
      long took = System.nanoTime() - t0;
      assertFalse(cut.data().delivered(), cut.body());
      assertTrue(cut.body().endsWith(",\"partial\":true,\"missingNodes\":[\"n3\"]}"), cut.body());
      assertTrue(took < Duration.ofMillis(1500 + 1000).toNanos(), "took " + took / 1_000_000 + " ms");
      t0 = System.nanoTime();
      Api.Response list = n1.api.post("get_online_list", system, "{\"groupName\":\"g1\"}");
      took = System.nanoTime() - t0;
      assertEquals(200, list.status(), list.body());
      assertTrue(list.body().endsWith(",\"partial\":true,\"missingNodes\":[\"n3\"]}"), list.body());
      assertEquals(Set.of(a.clientId, b.clientId), new HashSet<>(Api.JSON.convertValue(list.data().get("list"), List.class)));
      assertTrue(took < Duration.ofMillis(1500 + 1000).toNanos(), "took " + took / 1_000_000 + " ms");
      // a client on a reachable node is served as before
      assertTrue(n2.api.sendToClient(system, a.clientId, "still here").ok().data().delivered());
      java.util.Map<String, java.util.Map<String, Integer>> left = new java.util.HashMap<>();
      JsonNode here = a.nextJson();
      // n3 may be downed already: its 1002s can come first; so can the setup's 1001s (drain() takes only what had
      // arrived: a join notice from another node's sequencer can still be on its way)
      while (here.get("code").asInt() == 1002 || here.get("code").asInt() == 1001) {
        count1002(left, a, here);
        here = a.nextJson();
      }
      assertEquals("still here", here.get("data").asText());

      // the majority downs n3: its members leave every group, with a 1002 to the members on n1 and n2
      // (a 1002 names the client, not the group: each of n3's clients leaves each of the six groups)
      for (WsClient survivor : List.of(a, b)) {
        java.util.Map<String, Integer> seen = left.computeIfAbsent(survivor.clientId, k -> new java.util.HashMap<>());
        long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        while (seen.getOrDefault(c.clientId, 0) < groups.size() || seen.getOrDefault(c2.clientId, 0) < groups.size()) {
          assertTrue(System.nanoTime() < deadline, "1002s missing at " + survivor.clientId + ": got " + seen);
          String line = survivor.poll(Duration.ofMillis(500));
          if (line == null) continue; // the cluster may take a while (e.g. its shard coordinator was on n3)
          count1002(left, survivor, Api.JSON.readTree(line));
        }
        assertEquals(java.util.Map.of(c.clientId, groups.size(), c2.clientId, groups.size()), seen);
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

  /** Counts a 1002 frame (by the client it names) for {@code at}; other frames are ignored. */
  private static void count1002(java.util.Map<String, java.util.Map<String, Integer>> left, WsClient at, JsonNode f)
      throws Exception {
    if (f.get("code").asInt() != 1002) return;
    JsonNode data = f.get("data").isTextual() ? Api.JSON.readTree(f.get("data").asText()) : f.get("data");
    left.computeIfAbsent(at.clientId, k -> new java.util.HashMap<>()).merge(data.get("clientId").asText(), 1,
        Integer::sum);
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

  /**
   * C7: the node that runs a group's sequencer is stopped gracefully (SIGTERM's path) while pushes stream to the group
   * through another node: the members on the other nodes get every push answered success exactly once, in one order
   * (the sequencer moves only after the nodes have applied what it sent: Fence); a push the sequencer could not take
   * meanwhile is answered 503 and never arrives.
   */
  @Test
  void aSequencersNodeStopsGracefullyDuringAStream() throws Exception {
    cluster = ClusterNodes.start(3, java.util.Map.of("socket.shutdown.drain", "500ms"));
    TestServer n1 = cluster.node(1);
    TestServer n3 = cluster.node(3);
    String system = n1.newSystem();
    List<WsClient> members = new java.util.ArrayList<>();
    for (int i = 1; i <= 3; i++) for (int k = 0; k < 2; k++) members.add(cluster.node(i).connect(system));
    try {
      // groups until one's sequencer runs on n3
      String group = null;
      for (int g = 0; g < 40 && group == null; g++) {
        for (WsClient m : members) n1.api.bind(system, m.clientId, "s" + g).ok();
        if (sequencersOn(n3).contains(GroupSequencer.entityId(system, "s" + g))) group = "s" + g;
      }
      assertTrue(group != null, "no group's sequencer landed on n3");
      for (WsClient m : members) m.drain();
      String target = group;
      List<String> answered = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
      var stream = java.util.concurrent.CompletableFuture.runAsync(() -> {
        for (int i = 0; i < 200; i++) {
          Api.Response r = n1.api.post("send_to_group", system, "{\"groupName\":\"" + target + "\",\"data\":\"" + i + "\"}");
          if (r.status() == 200) answered.add(r.data().get("messageId").asText());
          else assertEquals(503, r.status(), r.body());
          try {
            Thread.sleep(20); // the stream lasts through n3's drain and hand-off
          } catch (InterruptedException e) {
            throw new AssertionError(e);
          }
        }
      });
      long started = System.nanoTime();
      while (answered.size() < 30) { // the stream is under way before n3 stops
        assertFalse(stream.isDone() && answered.size() < 30, "the stream ended early");
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(30).toNanos(), "the stream does not start");
        Thread.sleep(5);
      }
      n3.close(); // graceful: drain, hand-off of its shards, leave
      assertFalse(stream.isDone(), "the stream ended before n3 had stopped: nothing was tested");
      stream.get(120, java.util.concurrent.TimeUnit.SECONDS);
      assertTrue(answered.size() > 100, "too few pushes answered: " + answered.size());
      List<String> reference = null;
      for (WsClient m : members.subList(0, 4)) { // the members on n1 and n2
        List<String> got = new java.util.ArrayList<>();
        Set<String> want = new HashSet<>(answered);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!new HashSet<>(got).containsAll(want)) {
          assertTrue(System.nanoTime() < deadline, m.clientId + " is missing pushes");
          String line = m.poll(Duration.ofMillis(500));
          if (line == null) continue;
          JsonNode f = Api.JSON.readTree(line);
          if (f.get("code").asInt() == 1002 || f.get("code").asInt() == 1001) continue;
          String id = f.get("messageId").asText();
          assertTrue(want.contains(id), "a push answered 503 arrived, or a stranger: " + line);
          assertFalse(got.contains(id), "a push arrived twice at " + m.clientId);
          got.add(id);
        }
        if (reference == null) reference = got;
        else assertEquals(reference, got, "two members saw the pushes in different orders");
      }
    } finally {
      for (WsClient m : members) m.close();
    }
  }

  /** The group sequencers (entity ids) running on {@code node} now. */
  private static Set<String> sequencersOn(TestServer node) throws Exception {
    var system = node.server.system();
    org.apache.pekko.cluster.sharding.ShardRegion.CurrentShardRegionState state =
        org.apache.pekko.actor.typed.javadsl.AskPattern.<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery,
                org.apache.pekko.cluster.sharding.ShardRegion.CurrentShardRegionState>ask(
            org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(system).shardState(),
            r -> new org.apache.pekko.cluster.sharding.typed.GetShardRegionState(GroupSequencer.KEY, r),
            Duration.ofSeconds(5), system.scheduler()).toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    Set<String> ids = new HashSet<>();
    for (var shard : state.getShards()) ids.addAll(shard.getEntityIds());
    return ids;
  }
}

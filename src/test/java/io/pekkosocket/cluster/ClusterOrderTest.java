package io.pekkosocket.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * C2: one group with members on three nodes; three backends send 1,000 pushes at once, each through another node,
 * while other clients bind and unbind through all nodes. Every member that stayed gets every push exactly once and
 * they all see the group's frames (pushes, 1001, 1002) in one order; the members that came and went see a part of
 * that same order.
 */
class ClusterOrderTest {
  static ClusterNodes cluster;

  @BeforeAll
  static void start() {
    cluster = ClusterNodes.start(3);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void oneOrderForEveryMemberOnEveryNode() throws Exception {
    TestServer n1 = cluster.node(1);
    String system = n1.newSystem();
    List<WsClient> stable = new ArrayList<>();
    List<WsClient> churners = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      for (int k = 0; k < 2; k++) stable.add(cluster.node(i).connect(system));
      churners.add(cluster.node(i).connect(system));
    }
    try {
      for (int i = 0; i < stable.size(); i++) cluster.node(1 + i % 3).api.bind(system, stable.get(i).clientId, "room").ok();
      int perSender = 334;
      AtomicBoolean sending = new AtomicBoolean(true);
      List<CompletableFuture<List<String>>> senders = new ArrayList<>();
      for (int s = 1; s <= 3; s++) {
        TestServer entry = cluster.node(s);
        int sender = s;
        senders.add(CompletableFuture.supplyAsync(() -> {
          List<String> ids = new ArrayList<>();
          for (int i = 0; i < perSender; i++) {
            var r = entry.api.sendToGroup(system, "room", sender + "-" + i).ok();
            if (r.data().delivered() < stable.size()) {
              StringBuilder why = new StringBuilder(r.body());
              for (WsClient m : stable) {
                why.append("; ").append(m.clientId).append(m.isClosed() ? " closed " + m.closedFuture().getNow(null) : " open");
              }
              throw new AssertionError("a push reached fewer than the stable members: " + why);
            }
            ids.add(r.data().messageId());
          }
          return ids;
        }));
      }
      List<CompletableFuture<Void>> churn = new ArrayList<>();
      for (int c = 0; c < churners.size(); c++) {
        WsClient who = churners.get(c);
        int start = c;
        churn.add(CompletableFuture.runAsync(() -> {
          for (int i = 0; sending.get() && i < 200; i++) {
            cluster.node(1 + (start + i) % 3).api.bind(system, who.clientId, "room").ok();
            cluster.node(1 + (start + i + 1) % 3).api.unbind(system, who.clientId, "room").ok();
          }
        }));
      }
      Set<String> pushes = new HashSet<>();
      for (var s : senders) pushes.addAll(s.get());
      sending.set(false);
      for (var c : churn) c.get();
      assertEquals(3 * perSender, pushes.size());

      // the stable members: every push once, and one sequence of frames for all of them
      List<String> reference = null;
      for (WsClient member : stable) {
        List<String> seen = framesUntilAll(member, pushes);
        // from the first push on (before it, the stable members' own joins were announced to some of them only)
        int first = 0;
        while (!pushes.contains(seen.get(first))) first++;
        seen = seen.subList(first, seen.size());
        if (reference == null) {
          reference = seen;
          continue;
        }
        int at = 0;
        while (at < reference.size() && at < seen.size() && reference.get(at).equals(seen.get(at))) at++;
        if (at < reference.size() || at < seen.size()) {
          throw new AssertionError("two members (" + stable.get(0).clientId + ", " + member.clientId + ") saw the "
              + "group's frames in different orders from frame " + at + " of " + reference.size() + "/" + seen.size()
              + ": " + reference.subList(at, Math.min(reference.size(), at + 4)) + " vs "
              + seen.subList(at, Math.min(seen.size(), at + 4)));
        }
      }
      Map<String, Integer> place = new HashMap<>();
      for (int i = 0; i < reference.size(); i++) place.put(reference.get(i), i);
      // the churners: what they saw of the group comes in that same order
      for (WsClient churner : churners) {
        int last = -1;
        for (String line : churner.drain()) {
          JsonNode f = io.pekkosocket.Api.JSON.readTree(line);
          Integer at = place.get(f.get("messageId").asText());
          if (at == null) continue; // a notice sent while no stable member... cannot be: all frames reach them
          assertTrue(at > last, "a member that came and went saw frames out of the group's order");
          last = at;
        }
      }
    } finally {
      for (WsClient c : stable) c.close();
      for (WsClient c : churners) c.close();
    }
  }

  /** The messageIds of the frames a member gets, until it has had every push of {@code pushes}; each exactly once. */
  private static List<String> framesUntilAll(WsClient member, Set<String> pushes) throws Exception {
    List<String> seen = new ArrayList<>();
    Set<String> got = new HashSet<>();
    while (!got.containsAll(pushes)) {
      JsonNode f = member.nextJson();
      String id = f.get("messageId").asText();
      seen.add(id);
      if (pushes.contains(id)) assertTrue(got.add(id), "a push arrived twice: " + id);
    }
    return seen;
  }
}

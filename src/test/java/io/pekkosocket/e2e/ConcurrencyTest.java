package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * 200 clients connect, bind, receive and leave concurrently while group sends run. Anchors (in their group from
 * before the first send to after the last) give each group's one true order; every other member must have seen
 * exactly a contiguous slice of it, starting at its own 1001: nothing lost, duplicated or misdelivered, and the
 * same order for all. Every leaver's 1002 reaches every anchor exactly once.
 */
class ConcurrencyTest {
  static TestServer server;
  static final int GROUPS = 5;
  static final int ANCHORS_PER_GROUP = 5;
  static final int LEAVERS = 175;
  static final int SENDS_PER_GROUP = 150;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  record Seen(String messageId, int code, String data) {}

  static Seen parse(String frame) {
    try {
      JsonNode n = Api.JSON.readTree(frame);
      return new Seen(n.get("messageId").asText(), n.get("code").asInt(), n.get("data").asText());
    } catch (Exception e) {
      throw new AssertionError(frame, e);
    }
  }

  static void bind(String s, String clientId, String group) {
    server.api.bind(s, clientId, group, "u", null).ok();
  }

  @Test
  void concurrentJoinsSendsAndLeavesKeepOneOrderPerGroupAndLoseNothing() throws Exception {
    String s = server.newSystem();
    ExecutorService pool = Executors.newFixedThreadPool(48);
    try {
      // anchors join first, one after the other, so each anchor sees the joins of the anchors after it
      List<List<WsClient>> anchors = new ArrayList<>();
      for (int g = 0; g < GROUPS; g++) {
        List<WsClient> list = new ArrayList<>();
        for (int i = 0; i < ANCHORS_PER_GROUP; i++) {
          WsClient a = server.connect(s);
          bind(s, a.clientId, "g" + g);
          list.add(a);
        }
        anchors.add(list);
      }

      Map<String, String> leaverGroup = new ConcurrentHashMap<>();
      Map<String, List<String>> leaverFrames = new ConcurrentHashMap<>();
      List<Future<?>> work = new ArrayList<>();
      for (int g = 0; g < GROUPS; g++) {
        String group = "g" + g;
        work.add(pool.submit(() -> {
          for (int i = 0; i < SENDS_PER_GROUP; i++) {
            Api.Response r = server.api.post("send_to_group", s,
                "{\"groupName\":\"" + group + "\",\"code\":100,\"data\":\"" + group + "#" + i + "\"}");
            assertTrue(r.data().get("delivered").asInt() >= ANCHORS_PER_GROUP, r.body());
          }
          return null;
        }));
      }
      for (int i = 0; i < LEAVERS; i++) {
        String group = "g" + (i % GROUPS);
        work.add(pool.submit(() -> {
          WsClient c = server.connect(s);
          leaverGroup.put(c.clientId, group);
          bind(s, c.clientId, group);
          List<String> frames = new ArrayList<>();
          frames.add(c.next()); // its own 1001: it has joined
          Thread.sleep(ThreadLocalRandom.current().nextInt(0, 300)); // stays a while, as a user would
          if (ThreadLocalRandom.current().nextBoolean()) c.closeWith(1000);
          else c.abort();
          c.awaitClose();
          frames.addAll(c.drain());
          leaverFrames.put(c.clientId, frames);
          return null;
        }));
      }
      for (Future<?> f : work) f.get(120, TimeUnit.SECONDS);

      for (int g = 0; g < GROUPS; g++) {
        String group = "g" + g;
        Set<String> groupLeavers = new HashSet<>();
        leaverGroup.forEach((id, grp) -> {
          if (grp.equals(group)) groupLeavers.add(id);
        });
        List<List<Seen>> anchorViews = new ArrayList<>();
        for (int i = 0; i < ANCHORS_PER_GROUP; i++) {
          WsClient a = anchors.get(g).get(i);
          // everything after this anchor's own join: later anchors' joins, all sends, all leavers' joins and leaves
          int expected = (ANCHORS_PER_GROUP - i) + SENDS_PER_GROUP + 2 * groupLeavers.size();
          List<Seen> view = new ArrayList<>();
          for (int k = 0; k < expected; k++) view.add(parse(a.next()));
          // nothing beyond what was expected: the next frame is a marker sent now
          server.api.post("send_to_client", s, "{\"clientId\":" + Api.q(a.clientId) + ",\"code\":9,\"data\":\"end\"}");
          Seen marker = parse(a.next());
          assertEquals("end", marker.data(), "anchor got an unexpected extra frame");
          anchorViews.add(view);

          Set<String> ids = new HashSet<>();
          Map<String, Integer> leaves = new HashMap<>();
          int pushes = 0;
          for (Seen seen : view) {
            assertTrue(ids.add(seen.messageId()), "duplicate " + seen);
            if (seen.code() == 100) {
              pushes++;
              assertTrue(seen.data().startsWith(group + "#"), "misdelivered " + seen + " to " + group);
            } else if (seen.code() == 1002) {
              String leaver = Api.JSON.readTree(seen.data()).get("clientId").asText();
              assertTrue(groupLeavers.contains(leaver), "1002 for a stranger " + seen);
              leaves.merge(leaver, 1, Integer::sum);
            }
          }
          assertEquals(SENDS_PER_GROUP, pushes, "pushes seen by anchor " + i + " of " + group);
          for (String leaver : groupLeavers) assertEquals(1, leaves.getOrDefault(leaver, 0), "1002 count");
        }
        // all anchors share the order of the frames they have in common (the last anchor's view is a suffix)
        List<Seen> last = anchorViews.get(ANCHORS_PER_GROUP - 1);
        for (List<Seen> view : anchorViews) {
          assertEquals(last, view.subList(view.size() - last.size(), view.size()), "anchors disagree on order");
        }
        // each leaver saw a contiguous slice of the group's order, starting with its own 1001
        List<String> order = anchorViews.get(0).stream().map(Seen::messageId).toList();
        for (String leaver : groupLeavers) {
          List<Seen> seen = leaverFrames.get(leaver).stream().map(ConcurrencyTest::parse).toList();
          assertFalse(seen.isEmpty(), "a leaver saw at least its own 1001");
          assertEquals(1001, seen.get(0).code());
          assertTrue(seen.get(0).data().contains(leaver));
          int start = order.indexOf(seen.get(0).messageId());
          assertTrue(start >= 0, "leaver's join is in the group order");
          for (int k = 0; k < seen.size(); k++) {
            assertEquals(order.get(start + k), seen.get(k).messageId(), "leaver " + leaver + " frame " + k);
          }
        }
      }
      for (List<WsClient> list : anchors) list.forEach(WsClient::close);
    } finally {
      pool.shutdownNow();
    }
  }
}

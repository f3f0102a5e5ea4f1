package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A full batch whose runs of direct sends are asked together ({@code ApiRoutes.batch}) still runs in the given
 * order: each client receives its frames in command order, around the binds, group sends and unbinds between the
 * runs, and each result belongs to its own command (its messageId is the one the client received).
 */
class BatchOrderTest {
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("socket.api.max-batch", 100));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void runsOfSendsAndTheCommandsBetweenThemKeepTheBatchsOrder() throws Exception {
    String s = server.newSystem();
    try (WsClient a = server.connect(s); WsClient b = server.connect(s)) {
      String qa = Api.q(a.clientId);
      String qb = Api.q(b.clientId);
      List<String> commands = new ArrayList<>();
      List<Object> expectedA = new ArrayList<>(); // n of each push a must receive, in order; "join" for its 1001
      List<Integer> expectedB = new ArrayList<>();
      for (int n = 0; n < 100; n++) {
        if (n == 30) {
          commands.add("{\"op\":\"bind_to_group\",\"clientId\":" + qa + ",\"groupName\":\"g\"}");
          expectedA.add("join");
        } else if (n == 40) {
          commands.add("{\"op\":\"send_to_clients\",\"data\":{\"n\":40}}"); // no clientIds: fails alone
        } else if (n < 30) {
          commands.add("{\"op\":\"send_to_client\",\"clientId\":" + qa + ",\"data\":{\"n\":" + n + "}}");
          expectedA.add(n);
        } else if (n < 60) {
          commands.add("{\"op\":\"send_to_clients\",\"clientIds\":[" + qa + "," + qb + "],\"data\":{\"n\":" + n + "}}");
          expectedA.add(n);
          expectedB.add(n);
        } else if (n == 60) {
          commands.add("{\"op\":\"send_to_group\",\"groupName\":\"g\",\"data\":{\"n\":60}}");
          expectedA.add(60);
        } else if (n == 90) {
          commands.add("{\"op\":\"unbind_from_group\",\"clientId\":" + qa + ",\"groupName\":\"g\"}");
        } else {
          boolean toA = n % 2 == 0 || n > 90;
          commands.add("{\"op\":\"send_to_client\",\"clientId\":" + (toA ? qa : qb) + ",\"data\":{\"n\":" + n + "}}");
          if (toA) expectedA.add(n);
          else expectedB.add(n);
        }
      }
      Api.Response r = BatchTest.batch(server.api, s, "[" + String.join(",", commands) + "]");
      assertEquals(200, r.status(), r.body());
      JsonNode results = r.data().get("results");
      assertEquals(100, results.size());
      assertEquals(-1, results.get(40).get("code").asInt(), "the broken command's own error: " + results.get(40));
      for (int n = 0; n < 100; n++) {
        if (n != 40) assertEquals(0, results.get(n).get("code").asInt(), "command " + n + ": " + results.get(n));
      }
      assertEquals(1, results.get(60).get("data").get("delivered").asInt(), "a's bind before it had taken effect");

      List<Object> gotA = new ArrayList<>();
      while (gotA.size() < expectedA.size()) {
        JsonNode f = a.nextJson();
        if (f.get("code").asInt() == 1001) {
          gotA.add("join");
          continue;
        }
        int n = f.get("data").get("n").asInt();
        gotA.add(n);
        assertEquals(messageIdFor(results.get(n), a.clientId), f.get("messageId").asText(), "push " + n);
      }
      assertEquals(expectedA, gotA);
      List<Integer> gotB = new ArrayList<>();
      while (gotB.size() < expectedB.size()) {
        JsonNode f = b.nextJson();
        int n = f.get("data").get("n").asInt();
        gotB.add(n);
        assertEquals(messageIdFor(results.get(n), b.clientId), f.get("messageId").asText(), "push " + n);
      }
      assertEquals(expectedB, gotB);
      assertEquals(List.of(), server.api.onlineList(s, "g").ok().data().list(), "a's unbind ran, after the sends");
    }
  }

  /** The messageId a send's result gave {@code clientId}: its own for send_to_clients, the one for the others. */
  private static String messageIdFor(JsonNode result, String clientId) {
    JsonNode data = result.get("data");
    return data.has("messageIds") ? data.get("messageIds").get(clientId).asText() : data.get("messageId").asText();
  }
}

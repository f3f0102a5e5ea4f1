package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.Api;
import io.pekkosocket.RawWsClient;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Throws 1,500 random and malformed API bodies, headers, raw HTTP requests and WebSocket frames at a running
 * server, then checks that it still serves and that its state (systems, groups, members) is what it was.
 */
class FuzzTest {
  static TestServer server;
  static final long SEED = Long.getLong("fuzz.seed", 20261126L);
  static final List<String> OPS = List.of("register", "send_to_client", "send_to_clients", "send_to_group",
      "send_to_system", "bind_to_group", "unbind_from_group", "get_online_list", "get_all_groups", "close_client",
      "nope", "%00", "..%2F..%2Fetc", "SEND_TO_GROUP");
  static final List<String> KEYS = List.of("systemId", "clientId", "clientIds", "groupName", "userId", "extend",
      "code", "msg", "data", "sendUserId", "CLIENTID", "GroupName", "", "\u0000", "__proto__");
  static final Set<Integer> EXPECTED_STATUS = Set.of(200, 400, 401, 403, 404, 405, 413);

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static String randomString(Random r, int max) {
    int n = r.nextInt(max + 1);
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      switch (r.nextInt(6)) {
        case 0 -> sb.append((char) r.nextInt(0x20));
        case 1 -> sb.append("\"\\{}[]:,<>&".charAt(r.nextInt(11)));
        case 2 -> sb.append((char) (0x4e00 + r.nextInt(500)));
        case 3 -> sb.appendCodePoint(0x1F600 + r.nextInt(50));
        default -> sb.append((char) ('a' + r.nextInt(26)));
      }
    }
    return sb.toString();
  }

  static String randomValue(Random r, int depth) {
    return switch (r.nextInt(depth > 3 ? 6 : 9)) {
      case 0 -> Api.q(randomString(r, 20));
      case 1 -> Long.toString(r.nextLong());
      case 2 -> r.nextBoolean() ? "true" : "null";
      case 3 -> Double.toString(r.nextDouble() * 1e300);
      case 4 -> "1" + "0".repeat(r.nextInt(60));
      case 5 -> Api.q("");
      case 6 -> "[" + randomValue(r, depth + 1) + "," + randomValue(r, depth + 1) + "]";
      case 7 -> "{" + Api.q(KEYS.get(r.nextInt(KEYS.size()))) + ":" + randomValue(r, depth + 1) + "}";
      default -> "[".repeat(r.nextInt(200)) ;
    };
  }

  static String randomBody(Random r) {
    switch (r.nextInt(5)) {
      case 0 -> {
        byte[] bytes = new byte[r.nextInt(300)];
        r.nextBytes(bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
      }
      case 1 -> {
        return randomValue(r, 0);
      }
      default -> {
        StringBuilder sb = new StringBuilder("{");
        int n = r.nextInt(8);
        for (int i = 0; i < n; i++) {
          if (i > 0) sb.append(',');
          sb.append(Api.q(KEYS.get(r.nextInt(KEYS.size())))).append(':').append(randomValue(r, 0));
        }
        if (r.nextInt(10) > 0) sb.append('}');
        return sb.toString();
      }
    }
  }

  @Test
  void randomInputNeverBreaksTheServerOrItsState() throws Exception {
    Random r = new Random(SEED);
    String s = server.newSystem();
    WsClient a = server.connect(s);
    WsClient b = server.connect(s);
    for (WsClient c : List.of(a, b)) {
      server.api.post("bind_to_group", s, "{\"clientId\":" + Api.q(c.clientId) + ",\"groupName\":\"keep\"}");
    }
    a.next();
    a.next();
    b.next();
    String groupsBefore = server.api.post("get_all_groups", s, "{}").body();
    String[] tokens = {TestServer.ADMIN, null, "garbage", TestServer.ADMIN + "x"};
    String[] systemIds = {s, "", "unknown", randomString(r, 10)};

    // 800 API calls with random operation, body, SystemId and token
    for (int i = 0; i < 800; i++) {
      String op = OPS.get(r.nextInt(OPS.size()));
      String sid = systemIds[r.nextInt(systemIds.length)];
      String auth = tokens[r.nextInt(tokens.length)];
      Api.Response resp;
      try {
        resp = server.api.postWithAuthorization(op, sid.isEmpty() ? null : sid, auth == null ? null : "Bearer " + auth,
            randomBody(r));
      } catch (AssertionError clientRefused) {
        continue; // java.net.http refuses some header values (control characters) before sending
      }
      assertTrue(EXPECTED_STATUS.contains(resp.status()), "seed " + SEED + " call " + i + ": " + resp);
      JsonNode env = resp.json();
      assertTrue(env.has("code") && env.has("msg") && env.has("data"), resp.body());
    }

    // 300 raw HTTP requests, most malformed
    for (int i = 0; i < 300; i++) {
      String req = switch (r.nextInt(4)) {
        case 0 -> randomString(r, 100) + "\r\n\r\n";
        case 1 -> "POST /api/" + OPS.get(r.nextInt(OPS.size())) + " HTTP/1.1\r\nHost: x\r\nContent-Length: "
            + (r.nextInt(50) - 10) + "\r\nConnection: close\r\n\r\n" + randomBody(r);
        case 2 -> "GET /ws?systemId=" + s + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Version: " + r.nextInt(20) + "\r\nSec-WebSocket-Key: " + randomString(r, 30)
            + "\r\nConnection: close\r\n\r\n";
        default -> "POST /api/send_to_group HTTP/1.1\r\nHost: x\r\n" + randomString(r, 40) + ": "
            + randomString(r, 40) + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + Integer.toHexString(r.nextInt(100)) + "\r\n" + randomString(r, 50) + "\r\n0\r\n\r\n";
      };
      String response = RawWsClient.rawExchange(server.port(), req, 500);
      assertFalse(response.startsWith("HTTP/1.1 500"), "seed " + SEED + " raw " + i + ": " + response);
    }

    // 400 WebSocket connections sending random frames
    for (int i = 0; i < 400; i++) {
      try (RawWsClient ws = new RawWsClient(server.port(), "/ws?systemId=" + s, 0)) {
        ws.setReadTimeout(2_000);
        ws.read(); // welcome
        int frames = 1 + r.nextInt(4);
        for (int f = 0; f < frames; f++) {
          int opcode = r.nextInt(16);
          byte[] payload = new byte[r.nextInt(10) == 0 ? 9000 : r.nextInt(200)];
          r.nextBytes(payload);
          ws.send(opcode, r.nextInt(4) > 0, payload);
        }
      } catch (java.io.IOException closedByServer) {
        // the server closed the connection on a bad frame: that is an answer too
      }
    }

    // the server still serves, and its state is what it was
    assertEquals(200, server.api.get("/health/ready").status());
    assertEquals(groupsBefore, server.api.post("get_all_groups", s, "{}").body());
    Api.Response sent = server.api.post("send_to_group", s, "{\"groupName\":\"keep\",\"data\":\"still here\"}");
    assertEquals(2, sent.data().get("delivered").asInt());
    assertEquals("still here", a.nextJson().get("data").asText());
    assertEquals("still here", b.nextJson().get("data").asText());
    try (WsClient fresh = server.connect(s)) {
      assertNotNull(fresh.clientId);
    }
    a.close();
    b.close();
  }
}

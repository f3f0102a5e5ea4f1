package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** After a known sequence of connects, sends and closes, /metrics shows exactly the expected counts. */
class MetricsTest {
  static TestServer server;
  static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)})? ([^ ]+)$");

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** The value of the sample named {@code name} whose labels include all of {@code labels}; NaN when absent. */
  public static double value(String scrape, String name, String... labels) {
    for (String line : scrape.split("\n")) {
      Matcher m = LINE.matcher(line.trim());
      if (!m.matches() || !m.group(1).equals(name)) continue;
      String got = m.group(3) == null ? "" : m.group(3);
      boolean all = true;
      for (int i = 0; i < labels.length; i += 2) {
        all &= got.contains(labels[i] + "=\"" + labels[i + 1] + "\"");
      }
      if (all) return Double.parseDouble(m.group(4));
    }
    return Double.NaN;
  }

  static String scrape() {
    Api.Response r = server.api.get("/metrics");
    assertEquals(200, r.status());
    return r.body();
  }

  @Test
  void countsMatchAKnownSequence() throws Exception {
    String s1 = server.newSystem();
    String s2 = server.newSystem();
    WsClient a = server.connect(s1);
    WsClient b = server.connect(s1);
    WsClient c = server.connect(s2);
    WsClient.open("ws://127.0.0.1:" + server.port() + "/ws", Map.of()).awaitClose(); // no systemId
    WsClient.open(server.wsUrl("unknown-" + System.nanoTime()), Map.of()).awaitClose(); // unknown system
    for (WsClient x : new WsClient[] {a, b}) {
      server.api.bind(s1, x.clientId, "g").ok();
    }
    a.next(); // a's own 1001
    a.next(); // b's 1001
    b.next(); // b's own 1001
    server.api.sendToGroup(s1, "g", "x").ok();
    a.next();
    b.next();
    server.api.post("send_to_client", s1, "{\"clientId\":\"n1.nobody\",\"data\":\"x\"}");
    server.api.closeClient(s1, a.clientId).ok();
    assertEquals(1000, a.awaitClose().code());
    assertEquals(1002, b.nextJson().get("code").asInt());
    c.closeWith(1000);
    c.awaitClose();
    b.abort();

    // await: every connection has ended on the server
    long deadline = System.nanoTime() + 15_000_000_000L;
    String m = scrape();
    while (value(m, "socket_connections_open") != 0 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      m = scrape();
    }
    assertEquals(0, value(m, "socket_connections_open"));
    assertEquals(3, value(m, "socket_connects_total"));
    assertEquals(2, value(m, "socket_disconnects_total", "code", "1000"));
    assertEquals(1, value(m, "socket_disconnects_total", "code", "1006"));
    assertEquals(3 + 3 + 2 + 1, value(m, "socket_frames_queued_total"), "welcomes, 1001s, the push, the 1002");
    assertEquals(9, value(m, "socket_frames_written_total"));
    assertEquals(0, value(m, "socket_frames_dropped_total"));
    assertEquals(0, value(m, "socket_slow_consumer_closes_total"));
    assertEquals(2, value(m, "socket_systems_registered"));
    assertEquals(0, value(m, "socket_groups_live"));
    assertEquals(1, value(m, "socket_handshake_failures_total", "reason", "no_system_id"));
    assertEquals(1, value(m, "socket_handshake_failures_total", "reason", "unknown_system"));
    assertEquals(2, value(m, "socket_api_requests_seconds_count", "operation", "register", "status", "200"));
    assertEquals(2, value(m, "socket_api_requests_seconds_count", "operation", "bind_to_group", "status", "200"));
    assertEquals(1, value(m, "socket_api_requests_seconds_count", "operation", "send_to_group", "status", "200"));
    assertEquals(1, value(m, "socket_api_requests_seconds_count", "operation", "close_client", "status", "200"));
    assertTrue(value(m, "jvm_threads_live_threads") > 0, "JVM metrics are exported");
    assertTrue(value(m, "jvm_memory_used_bytes", "area", "heap") > 0);

    server.api.post("nope", s1, "{}");
    server.api.withToken(null).post("get_all_groups", s1, "{}");
    String after = scrape();
    assertEquals(1, value(after, "socket_api_requests_seconds_count", "operation", "unknown", "status", "404"));
    assertEquals(1, value(after, "socket_api_requests_seconds_count", "operation", "get_all_groups", "status", "401"));
    assertFalse(after.contains(s1), "no per-system labels");
  }
}

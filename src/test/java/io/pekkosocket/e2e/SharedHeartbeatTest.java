package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.Api;
import io.pekkosocket.RawWsClient;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import io.pekkosocket.ws.Heartbeat;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The node-wide heartbeat ({@link Heartbeat}) over real sockets: every connection is pinged every ping interval,
 * none missed and none doubled, and the heartbeat forgets every connection that ends, however it ends (the 1001
 * of a silent connection is {@code HeartbeatAndSlowConsumerTest}'s).
 */
class SharedHeartbeatTest {
  static final long INTERVAL_MS = 400;
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(
        "socket.ws.ping-interval", INTERVAL_MS + "ms",
        "socket.ws.idle-timeout", "10s")); // long: the silent raw clients here must not be closed for it
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static Heartbeat heartbeat() {
    return Heartbeat.get(server.server.system());
  }

  /** Waits (bounded) until the heartbeat holds {@code n} connections. */
  static void awaitRegistered(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (heartbeat().registered() != n) {
      if (System.nanoTime() > deadline) fail("the heartbeat holds " + heartbeat().registered() + ", expected " + n);
      Thread.sleep(20);
    }
  }

  /** Reads until {@code n} pings have come, answering each with a pong; returns when each came (nanoTime). */
  static List<Long> pingTimes(RawWsClient c, int n) {
    List<Long> times = new ArrayList<>();
    try {
      while (times.size() < n) {
        RawWsClient.Frame f = c.read();
        if (f.opcode() == 8) fail("closed with " + f.closeCode() + " after " + times.size() + " pings");
        if (f.opcode() == 9) {
          times.add(System.nanoTime());
          c.send(0xA, true, f.payload()); // a live client: its pongs keep the heartbeat from closing it
        }
      }
    } catch (java.io.IOException e) {
      throw new AssertionError("after " + times.size() + " pings", e);
    }
    return times;
  }

  @Test
  void eachConnectionIsPingedEveryIntervalNeitherMissedNorDoubled() throws Exception {
    String s = server.newSystem();
    int connections = 4;
    int pings = 8;
    ExecutorService readers = Executors.newFixedThreadPool(connections);
    List<RawWsClient> clients = new ArrayList<>();
    try {
      List<Long> opened = new ArrayList<>();
      List<CompletableFuture<List<Long>>> times = new ArrayList<>();
      for (int i = 0; i < connections; i++) {
        RawWsClient c = new RawWsClient(server.port(), "/ws?systemId=" + URLEncoder.encode(s, StandardCharsets.UTF_8), 0);
        clients.add(c);
        opened.add(System.nanoTime());
        c.welcomeClientId();
        times.add(CompletableFuture.supplyAsync(() -> pingTimes(c, pings), readers));
      }
      for (int i = 0; i < connections; i++) {
        List<Long> t = times.get(i).get(30, TimeUnit.SECONDS);
        long firstMs = (t.get(0) - opened.get(i)) / 1_000_000;
        assertTrue(firstMs <= INTERVAL_MS + 300, "connection " + i + ": first ping " + firstMs + " ms after opening");
        List<Long> gapsMs = new ArrayList<>();
        for (int k = 1; k < t.size(); k++) gapsMs.add((t.get(k) - t.get(k - 1)) / 1_000_000);
        for (long gap : gapsMs) {
          // a doubled ping would come right after another, a missed one a whole interval late
          assertTrue(gap >= INTERVAL_MS / 2 && gap < 2 * INTERVAL_MS, "connection " + i + ": gaps " + gapsMs);
        }
        double mean = gapsMs.stream().mapToLong(Long::longValue).average().orElseThrow();
        assertEquals(INTERVAL_MS, mean, INTERVAL_MS / 10.0, "connection " + i + ": gaps " + gapsMs);
      }
    } finally {
      readers.shutdownNow();
      for (RawWsClient c : clients) c.close();
    }
  }

  @Test
  void theHeartbeatForgetsEveryConnectionThatEndsHoweverItEnds() throws Exception {
    awaitRegistered(0);
    String s = server.newSystem();
    String path = "/ws?systemId=" + URLEncoder.encode(s, StandardCharsets.UTF_8);
    WsClient closesItself = server.connect(s);
    WsClient closedByServer = server.connect(s);
    WsClient staying = server.connect(s);
    RawWsClient reset = new RawWsClient(server.port(), path, 0);
    reset.welcomeClientId();
    RawWsClient lost = new RawWsClient(server.port(), path + "&resume=1", 0);
    String resumeToken = Api.JSON.readTree(lost.readText()).get("data").get("resumeToken").asText();
    awaitRegistered(5);

    closesItself.closeWith(1000);
    closesItself.awaitClose();
    server.api.closeClient(s, closedByServer.clientId).ok();
    assertEquals(1000, closedByServer.awaitClose().code());
    reset.reset();
    lost.reset(); // its session waits for a resume; its socket is gone
    awaitRegistered(1);

    // the session resumed on a new socket: that socket is the heartbeat's now
    try (RawWsClient resumed = new RawWsClient(server.port(),
        path + "&resume=" + URLEncoder.encode(resumeToken, StandardCharsets.UTF_8) + "&last=", 0)) {
      JsonNode welcome = Api.JSON.readTree(resumed.readText()).get("data");
      assertTrue(welcome.get("resumed").asBoolean(), welcome.toString());
      awaitRegistered(2);
      resumed.send(8, true, new byte[] {0x03, (byte) 0xE8});
      assertEquals(1000, resumed.readUntilClose().closeCode());
    }
    // refused at the handshake: upgraded, closed at once, forgotten too
    try (RawWsClient refused = new RawWsClient(server.port(), "/ws?systemId=no-such-system-" + s, 0)) {
      assertEquals(1008, refused.readUntilClose().closeCode());
    }
    staying.closeWith(1000);
    staying.awaitClose();
    awaitRegistered(0);
  }
}

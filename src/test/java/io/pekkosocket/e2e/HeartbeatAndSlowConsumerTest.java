package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.RawWsClient;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Pings, the idle timeout, and the per-connection bounded queue (1013), with short settings. */
class HeartbeatAndSlowConsumerTest {
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(
        "socket.ws.ping-interval", "200ms",
        "socket.ws.idle-timeout", "1500ms",
        "socket.ws.outbound-buffer.frames", 64,
        "socket.ws.outbound-buffer.bytes", "256KiB"));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void serverPingsAndClosesASilentConnectionWith1001AndSends1002() throws Exception {
    String s = server.newSystem();
    try (WsClient watcher = server.connect(s)) {
      long opening = System.nanoTime(); // the silent connection's stage starts after this
      try (RawWsClient silent = new RawWsClient(server.port(), "/ws?systemId=" + s, 0)) {
        String clientId = silent.welcomeClientId();
        server.api.bind(s, watcher.clientId, "g").ok();
        server.api.bind(s, clientId, "g").ok();
        boolean sawPing = false;
        RawWsClient.Frame close = null;
        while (close == null) {
          RawWsClient.Frame f = silent.read(); // never answered: the client stays silent
          if (f.opcode() == 9) sawPing = true;
          if (f.opcode() == 8) close = f;
        }
        long silentMs = (System.nanoTime() - opening) / 1_000_000;
        assertTrue(sawPing, "the server pinged before giving up");
        assertEquals(1001, close.closeCode());
        assertEquals("heartbeat timeout", new String(close.payload(), 2, close.payload().length - 2,
            java.nio.charset.StandardCharsets.UTF_8));
        // not before the idle timeout, and soon after it: the heartbeat looks for silence every 150 ms here (a
        // tenth of the idle timeout); the rest is slack for a busy machine
        assertTrue(silentMs >= 1500 && silentMs < 1500 + 150 + 850, "closed after " + silentMs + " ms of silence");
      }
      watcher.next(); // its own 1001
      watcher.next(); // the silent client's 1001
      assertEquals(1002, watcher.nextJson().get("code").asInt());
    }
  }

  @Test
  void aConnectionThatAnswersPingsStaysOpenPastTheIdleTimeout() throws Exception {
    String s = server.newSystem();
    try (WsClient c = server.connect(s)) { // java.net.http answers pings with pongs
      long until = System.nanoTime() + 3_000_000_000L; // twice the idle timeout
      int round = 0;
      while (System.nanoTime() < until) {
        server.api.post("send_to_client", s, "{\"clientId\":" + Api.q(c.clientId) + ",\"data\":\"r" + round + "\"}");
        assertEquals("r" + round, c.nextJson().get("data").asText());
        round++;
        Thread.sleep(100); // paces the loop; the assertion is on frames, not on timing
      }
      assertFalse(c.isClosed());
    }
  }

  @Test
  void slowConsumerIsClosedWith1013WithoutDelayingOthersAndGetsEverythingItWasCountedFor() throws Exception {
    String s = server.newSystem();
    try (WsClient fast = server.connect(s);
         RawWsClient slow = new RawWsClient(server.port(), "/ws?systemId=" + s, 4096)) {
      String slowId = slow.welcomeClientId();
      server.api.bind(s, fast.clientId, "g").ok();
      server.api.bind(s, slowId, "g").ok();
      fast.next();
      fast.next();
      // it reads nothing but is alive: unsolicited pongs (RFC 6455 §5.5.3) keep the heartbeat from closing it
      java.util.concurrent.ScheduledExecutorService keepAlive = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
      keepAlive.scheduleAtFixedRate(() -> {
        try {
          slow.send(0xA, true, new byte[0]);
        } catch (java.io.IOException closed) {
          // the connection is over
        }
      }, 0, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
      String payload = "x".repeat(16 * 1024);
      List<String> countedForSlow = new ArrayList<>();
      boolean refused = false;
      // the slow client reads nothing; its queue (and the socket buffers) fill up until a send is refused
      while (!refused && countedForSlow.size() < 5_000) {
        Api.Response r = server.api.post("send_to_group", s, "{\"groupName\":\"g\",\"data\":\"" + payload + "\"}");
        int delivered = r.data().get("delivered").asInt();
        assertTrue(delivered >= 1, "the fast client always accepts");
        String messageId = r.data().get("messageId").asText();
        refused = delivered == 1;
        if (!refused) countedForSlow.add(messageId);
        // the fast client keeps up, message by message
        assertEquals(messageId, fast.nextJson().get("messageId").asText());
      }
      keepAlive.shutdownNow();
      assertTrue(refused, "the slow consumer's queue never overflowed");
      assertEquals(1002, fast.nextJson().get("code").asInt(), "the slow consumer's leave is announced");
      // every frame its delivered counted arrives, in order, before the 1013
      List<String> received = new ArrayList<>();
      RawWsClient.Frame f;
      while ((f = slow.read()).opcode() != 8) {
        if (f.opcode() == 1) received.add(Api.JSON.readTree(f.text()).get("messageId").asText());
      }
      assertEquals(1013, f.closeCode());
      assertEquals(countedForSlow, received.subList(received.size() - countedForSlow.size(), received.size()));
      assertEquals(countedForSlow.size() + 1, received.size(), "its own 1001, then every counted push, nothing else");
    }
  }
}

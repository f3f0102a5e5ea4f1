package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.RawWsClient;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
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
    try (WsClient watcher = server.connect(s);
         RawWsClient silent = new RawWsClient(server.port(), "/ws?systemId=" + s, 0)) {
      String clientId = silent.welcomeClientId();
      server.api.post("bind_to_group", s, "{\"clientId\":" + Api.q(watcher.clientId) + ",\"groupName\":\"g\"}");
      server.api.post("bind_to_group", s, "{\"clientId\":" + Api.q(clientId) + ",\"groupName\":\"g\"}");
      boolean sawPing = false;
      RawWsClient.Frame close = null;
      while (close == null) {
        RawWsClient.Frame f = silent.read(); // never answered: the client stays silent
        if (f.opcode() == 9) sawPing = true;
        if (f.opcode() == 8) close = f;
      }
      assertTrue(sawPing, "the server pinged before giving up");
      assertEquals(1001, close.closeCode());
      assertEquals("heartbeat timeout", new String(close.payload(), 2, close.payload().length - 2,
          java.nio.charset.StandardCharsets.UTF_8));
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
  void slowConsumerIsClosedWith1013WithoutDelayingOthers() throws Exception {
    String s = server.newSystem();
    try (WsClient fast = server.connect(s);
         RawWsClient slow = new RawWsClient(server.port(), "/ws?systemId=" + s, 4096)) {
      String slowId = slow.welcomeClientId();
      server.api.post("bind_to_group", s, "{\"clientId\":" + Api.q(fast.clientId) + ",\"groupName\":\"g\"}");
      server.api.post("bind_to_group", s, "{\"clientId\":" + Api.q(slowId) + ",\"groupName\":\"g\"}");
      fast.next();
      fast.next();
      String payload = "x".repeat(16 * 1024);
      int sent = 0;
      int fastExpected = 0;
      boolean refused = false;
      // the slow client reads nothing; its queue (and the socket buffers) fill up until a send is refused
      while (!refused && sent < 5_000) {
        Api.Response r = server.api.post("send_to_group", s, "{\"groupName\":\"g\",\"data\":\"" + payload + "\"}");
        int delivered = r.data().get("delivered").asInt();
        assertTrue(delivered >= 1, "the fast client always accepts");
        fastExpected++;
        refused = delivered == 1;
        sent++;
        // the fast client keeps up, message by message
        assertEquals(r.data().get("messageId").asText(), fast.nextJson().get("messageId").asText());
      }
      assertTrue(refused, "the slow consumer's queue never overflowed");
      assertEquals(1002, fast.nextJson().get("code").asInt(), "the slow consumer's leave is announced");
      RawWsClient.Frame close = slow.readUntilClose();
      assertNotNull(close, "the slow consumer got a close frame after its queued frames");
      assertEquals(1013, close.closeCode());
      assertTrue(fastExpected > 0);
    }
  }
}

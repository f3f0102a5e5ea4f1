package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code socket.http.idle-timeout}: an HTTP connection that sends nothing is closed by the server, which also ends
 * a request whose headers never complete; a WebSocket that answers the server's pings is never affected.
 */
class HttpIdleTest {
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("socket.http.idle-timeout", "1 s", "socket.ws.ping-interval", "300 ms",
        "socket.ws.idle-timeout", "3 s"));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** Connects, sends {@code bytes}, then reads until the server closes; fails if it has not within 10 s. */
  private static void assertServerCloses(String bytes) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
      s.setSoTimeout(10_000); // the idle timeout is 1 s: 10 s is the generous margin
      if (!bytes.isEmpty()) {
        s.getOutputStream().write(bytes.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
      }
      InputStream in = s.getInputStream();
      try {
        while (in.read() != -1) { /* whatever comes, until the end of the stream */ }
      } catch (SocketTimeoutException e) {
        fail("the server kept a silent connection open for 10 s (http idle-timeout 1 s)");
      } catch (java.net.SocketException reset) {
        // a reset is a close too
      }
    }
  }

  @Test
  void aConnectionThatSendsNothingIsClosed() throws Exception {
    assertServerCloses("");
  }

  @Test
  void aRequestWhoseHeadersNeverCompleteIsClosed() throws Exception {
    assertServerCloses("POST /api/x HTTP/1.1\r\nHost: a\r\n");
  }

  @Test
  void aWebSocketThatAnswersPingsOutlivesTheHttpIdleTimeout() throws Exception {
    String s = server.newSystem();
    try (WsClient c = server.connect(s)) {
      // four HTTP idle timeouts, with nothing sent by either side but the server's pings and the client's pongs
      assertThrows(java.util.concurrent.TimeoutException.class,
          () -> c.closedFuture().get(4, TimeUnit.SECONDS), "the WebSocket must stay open");
      assertEquals(0, server.api.post("send_to_client", s,
          "{\"clientId\":\"" + c.clientId + "\",\"data\":\"still here\"}").code());
      assertTrue(c.next().contains("still here"));
    }
  }
}

package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import io.pekkosocket.ops.Faults;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code socket.http.idle-timeout}: an HTTP connection that sends nothing is closed by the server, which also ends
 * a request whose headers never complete, a request whose body stops arriving and a keep-alive idle since its last
 * response; a request being answered, a keep-alive that keeps asking and a WebSocket that answers the server's pings
 * are never affected. The metrics listener is guarded too.
 */
class HttpIdleTest {
  static TestServer server;

  /** A command held in its SystemActor (the test-only fault hook) until released: a request being answered. */
  static final class Hold {
    final CountDownLatch reached = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
  }

  static final Map<String, Hold> holds = new ConcurrentHashMap<>();
  static final Faults HOLDS = (point, key) -> {
    Hold h = holds.get(point + ":" + key);
    if (h == null) return;
    h.reached.countDown();
    try {
      h.release.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  };

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("socket.http.idle-timeout", "1 s", "socket.ws.ping-interval", "300 ms",
        "socket.ws.idle-timeout", "3 s", "socket.metrics.port", 0), HOLDS);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** Connects, sends {@code bytes}, then reads until the server closes; fails if it has not within 10 s. */
  private static void assertServerCloses(String bytes) throws Exception {
    assertServerCloses(server.port(), bytes);
  }

  private static void assertServerCloses(int port, String bytes) throws Exception {
    try (Socket s = open(port)) {
      if (!bytes.isEmpty()) send(s, bytes);
      awaitClose(s);
    }
  }

  private static Socket open(int port) throws Exception {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    s.setSoTimeout(10_000); // the idle timeout is 1 s: 10 s is the generous margin
    return s;
  }

  private static void send(Socket s, String text) throws Exception {
    s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
  }

  /** Reads until the server closes; fails if it has not within 10 s. */
  private static void awaitClose(Socket s) throws Exception {
    InputStream in = s.getInputStream();
    try {
      while (in.read() != -1) { /* whatever comes, until the end of the stream */ }
    } catch (SocketTimeoutException e) {
      fail("the server kept a silent connection open for 10 s (http idle-timeout 1 s)");
    } catch (java.net.SocketException reset) {
      // a reset is a close too
    }
  }

  /** One response read off a keep-alive connection: its status line and body (by Content-Length). */
  private static String[] readResponse(Socket s) throws Exception {
    InputStream in = s.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b == -1) fail("the connection ended before a whole response; read: " + head);
      head.append((char) b);
    }
    String[] lines = head.toString().split("\r\n");
    int length = 0;
    for (String line : lines) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).trim());
      }
    }
    byte[] body = in.readNBytes(length);
    assertEquals(length, body.length, "the connection ended inside a response body");
    return new String[] {lines[0], new String(body, StandardCharsets.UTF_8)};
  }

  private static final String LIVE = "GET /health/live HTTP/1.1\r\nHost: a\r\n\r\n";

  @Test
  void aConnectionThatSendsNothingIsClosed() throws Exception {
    assertServerCloses("");
  }

  @Test
  void aRequestWhoseHeadersNeverCompleteIsClosed() throws Exception {
    assertServerCloses("POST /api/x HTTP/1.1\r\nHost: a\r\n");
  }

  @Test
  void aRequestWhoseHeadersTrickleIsClosed() throws Exception {
    String headers = "GET /health/live HTTP/1.1\r\nHost: a\r\nX-Slow: " + "x".repeat(100);
    try (Socket s = open(server.port())) {
      // a byte every 100 ms for 13 s: bytes keep coming, but no request is ever complete; once the server has
      // closed, a write fails
      for (int i = 0; i < headers.length(); i++) {
        try {
          send(s, headers.substring(i, i + 1));
        } catch (java.net.SocketException closed) {
          return;
        }
        Thread.sleep(100); // the client's pace, not an assertion
      }
      fail("the server kept a request trickling for 13 s open (http idle-timeout 1 s)");
    }
  }

  @Test
  void aSilentConnectionToTheMetricsPortIsClosed() throws Exception {
    assertServerCloses(server.server.metricsPort().orElseThrow(), "");
  }

  @Test
  void aKeepAliveIdleSinceItsLastResponseIsClosed() throws Exception {
    try (Socket s = open(server.port())) {
      send(s, LIVE);
      assertEquals("HTTP/1.1 200 OK", readResponse(s)[0]);
      awaitClose(s);
    }
  }

  @Test
  void aKeepAliveThatKeepsAskingWithinTheTimeoutStaysOpen() throws Exception {
    try (Socket s = open(server.port())) {
      // ten requests 300 ms apart on one connection: about 3 s, three idle timeouts counted from the accept
      for (int i = 0; i < 10; i++) {
        if (i > 0) Thread.sleep(300); // the client's pace, not an assertion
        send(s, LIVE);
        assertEquals("HTTP/1.1 200 OK", readResponse(s)[0], "request " + i + " answered on the same connection");
      }
      awaitClose(s); // and once it stops asking, it is closed
    }
  }

  @Test
  void aRequestBeingAnsweredIsNotCut() throws Exception {
    String x = server.newSystem();
    Hold hold = new Hold();
    holds.put("system-started:" + x, hold);
    try (WsClient c = server.connect(x); Socket s = open(server.port())) {
      String body = "{\"clientId\":\"" + c.clientId + "\",\"data\":\"late\"}";
      send(s, "POST /api/send_to_client HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " + TestServer.ADMIN
          + "\r\nSystemId: " + x + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
          + "\r\n\r\n" + body);
      assertTrue(hold.reached.await(10, TimeUnit.SECONDS), "the command started");
      // the command is held for two idle timeouts, and nothing moves on the connection meanwhile
      Thread.sleep(2_000);
      hold.release.countDown();
      String[] response = readResponse(s);
      assertEquals("HTTP/1.1 200 OK", response[0], response[1]);
      assertEquals(0, io.pekkosocket.Api.JSON.readTree(response[1]).get("code").asInt(), response[1]);
    } finally {
      hold.release.countDown();
      holds.remove("system-started:" + x);
    }
  }

  @Test
  void aRequestWhoseBodyStopsArrivingIsClosed() throws Exception {
    // complete headers, then 12 of the 100 body bytes announced, then nothing: Pekko's request timeout would only
    // start at the end of the body
    assertServerCloses("POST /api/register HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " + TestServer.ADMIN
        + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"systemId\":");
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

package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.TestServer;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The handshake budget (audit M8): refused upgrades never spend the server-wide {@code handshakes-per-second};
 * they have their own budget, beyond which they get a plain 503; an optional per-address limit.
 */
class HandshakeBudgetTest {
  static final String BUSY = "{\"code\":-1,\"msg\":\"too many new connections, retry\",\"data\":[]}";

  /** What one upgrade got: the HTTP status, and the first frame's text (101) or the body (anything else). */
  record Outcome(int status, String text) {}

  private static Outcome upgrade(InetAddress from, int port, String pathAndQuery) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(from, 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
      s.setSoTimeout(15_000);
      s.getOutputStream().write(("GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
          + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      DataInputStream in = new DataInputStream(s.getInputStream());
      String statusLine = line(in);
      int status = Integer.parseInt(statusLine.split(" ")[1]);
      int contentLength = 0;
      for (String h; !(h = line(in)).isEmpty(); ) {
        if (h.toLowerCase().startsWith("content-length:")) contentLength = Integer.parseInt(h.substring(15).trim());
      }
      if (status != 101) {
        byte[] body = new byte[contentLength];
        in.readFully(body);
        return new Outcome(status, new String(body, StandardCharsets.UTF_8));
      }
      in.readUnsignedByte();
      int len = in.readUnsignedByte() & 0x7F;
      if (len == 126) len = in.readUnsignedShort();
      byte[] payload = new byte[len];
      in.readFully(payload);
      return new Outcome(101, new String(payload, StandardCharsets.UTF_8));
    }
  }

  private static String line(DataInputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int c; (c = in.read()) != '\n'; ) {
      if (c == -1) throw new IOException("connection closed after " + sb);
      if (c != '\r') sb.append((char) c);
    }
    return sb.toString();
  }

  private static Outcome fromLoopback(TestServer server, String pathAndQuery) throws IOException {
    return upgrade(InetAddress.getByName("127.0.0.1"), server.port(), pathAndQuery);
  }

  private static void assertWelcome(Outcome o) {
    assertEquals(101, o.status(), o.text());
    assertTrue(o.text().startsWith("{\"code\":0,\"msg\":\"success\",\"data\":{\"clientId\":"), o.text());
  }

  @Test
  void refusedUpgradesDoNotSpendTheHandshakeBudget() throws Exception {
    try (TestServer server = TestServer.start(Map.of("socket.limits.handshakes-per-second", 5,
        "socket.limits.refused-handshakes-per-second", 1000))) {
      String s = server.newSystem();
      for (int i = 0; i < 15; i++) {
        Outcome unknown = fromLoopback(server, "/ws?systemId=nope-" + i);
        assertEquals(101, unknown.status(), "refusal #" + i + " was rate limited: " + unknown.text());
        assertTrue(unknown.text().contains("\"code\":-1001,\"msg\":\"系统ID无效\""), unknown.text());
      }
      for (int i = 0; i < 5; i++) {
        Outcome missing = fromLoopback(server, "/ws");
        assertEquals(101, missing.status(), missing.text());
        assertTrue(missing.text().contains("\"msg\":\"系统ID不能为空\""), missing.text());
      }
      assertWelcome(fromLoopback(server, "/ws?systemId=" + s));
    }
  }

  @Test
  void refusalsBeyondTheirOwnBudgetGetA503WithoutAnUpgrade() throws Exception {
    try (TestServer server = TestServer.start(Map.of("socket.limits.handshakes-per-second", 5,
        "socket.limits.refused-handshakes-per-second", 2))) {
      String s = server.newSystem();
      Outcome refused = null;
      for (int i = 0; i < 20 && refused == null; i++) {
        Outcome o = fromLoopback(server, "/ws?systemId=nope-" + i);
        if (o.status() != 101) refused = o;
      }
      assertNotNull(refused, "20 refusals in a row at 2 per second: some must be limited");
      assertEquals(503, refused.status());
      assertEquals(BUSY, refused.text());
      assertWelcome(fromLoopback(server, "/ws?systemId=" + s));
    }
  }

  @Test
  void theOptionalPerAddressLimitLeavesOtherAddressesAlone() throws Exception {
    try (TestServer server = TestServer.start(Map.of("socket.limits.handshakes-per-address", 3))) {
      String s = server.newSystem();
      Outcome limited = null;
      for (int i = 0; i < 20 && limited == null; i++) {
        Outcome o = fromLoopback(server, "/ws?systemId=" + s);
        if (o.status() != 101) limited = o;
      }
      assertNotNull(limited, "20 upgrades in a row from one address at 3 per second: some must be limited");
      assertEquals(503, limited.status());
      assertEquals(BUSY, limited.text());
      assertWelcome(upgrade(InetAddress.getByName("127.0.0.2"), server.port(), "/ws?systemId=" + s));
    }
  }
}

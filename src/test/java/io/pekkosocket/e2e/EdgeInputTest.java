package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Validation at the edges (issue 8, item 10): systemIds the API could never address; numbers in data. */
class EdgeInputTest {
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String register(String systemId) {
    return server.api.post("register", null, "{\"systemId\":" + Api.q(systemId) + "}").body();
  }

  @Test
  void registerRefusesSurroundingWhitespace() {
    String id = "ws-" + System.nanoTime();
    for (String bad : List.of(" " + id, id + " ", "\u00A0" + id, id + "\u3000", "\t" + id)) {
      String body = register(bad);
      // a tab is also a control character: either refusal is right, the point is that it is refused
      assertTrue(body.equals("{\"code\":-1,\"msg\":\"systemId must not start or end with whitespace\",\"data\":[]}")
          || body.equals("{\"code\":-1,\"msg\":\"systemId must be 1-128 printable characters\",\"data\":[]}"),
          Api.q(bad) + " -> " + body);
    }
    assertEquals("{\"code\":-1,\"msg\":\"systemId must not start or end with whitespace\",\"data\":[]}",
        register(" " + id));
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":[]}", register(id + " inner space"),
        "spaces inside an id stay allowed");
  }

  @Test
  void registerRefusesUnicodeFormatCharacters() {
    String id = "cf-" + System.nanoTime();
    for (String bad : List.of("\u200B" + id, id + "\uFEFF", "a\u202E" + id, "a\u200D" + id, "a\u2060" + id,
        "a\u00AD" + id, "a" + new String(Character.toChars(0xE0001)) + id)) {
      assertEquals("{\"code\":-1,\"msg\":\"systemId must not contain invisible format characters (Unicode Cf)\","
          + "\"data\":[]}", register(bad), Api.q(bad));
    }
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":[]}", register(id + "-é-系统"),
        "other printable characters stay allowed");
  }

  /** Sends {@code dataJson} as the data of a push and returns the text of data in the frame the client got. */
  private static String forwarded(WsClient c, String system, String dataJson) {
    Api.Response r = server.api.post("send_to_client", system,
        "{\"clientId\":" + Api.q(c.clientId) + ",\"data\":" + dataJson + "}");
    assertEquals(0, r.code(), r.body());
    String frame = c.next();
    assertTrue(frame.endsWith("}\n"), frame);
    int at = frame.indexOf(",\"data\":");
    return frame.substring(at + ",\"data\":".length(), frame.length() - 2);
  }

  @Test
  void numbersInDataArriveExactlyAsSent() {
    String s = server.newSystem();
    try (WsClient c = server.connect(s)) {
      for (String data : List.of("1e400", "0.12345678901234567890", "-0", "1E5", "-0.0", "1.50", "12345678901234567890123",
          "[1e400,-0,0.12345678901234567890,1E5]", "{\"a\":1e400,\"b\":{\"c\":[-0.000,2E-7]}}", "true", "null",
          "{}", "[]")) {
        String got = "null".equals(data) ? "\"\"" : data; // null = absent: the empty string, as for any field
        assertEquals(got, forwarded(c, s, data), "data " + data);
      }
      assertEquals("{\"a\":[1,2.50],\"b\":\"x\"}", forwarded(c, s, "{ \"a\" : [ 1 , 2.50 ] ,\n \"b\" : \"x\" }"),
          "compact, numbers as written");
      assertEquals("\"1e400\"", forwarded(c, s, "\"1e400\""), "a string stays a string");
    }
  }

  @Test
  void jsonLimitsStillHoldForData() {
    String s = server.newSystem();
    Api.Response longNumber = server.api.post("send_to_system", s, "{\"data\":" + "9".repeat(5000) + "}");
    assertEquals(400, longNumber.status(), longNumber.body());
    Api.Response deep = server.api.post("send_to_system", s, "{\"data\":" + "[".repeat(5000) + "]".repeat(5000) + "}");
    assertEquals(400, deep.status(), deep.body());
    Api.Response broken = server.api.post("send_to_system", s, "{\"data\":[1,}");
    assertEquals(400, broken.status(), broken.body());
  }

  @Test
  void keysStayCaseInsensitiveAndTheLastDuplicateWins() {
    String s = server.newSystem();
    try (WsClient c = server.connect(s)) {
      Api.Response r = server.api.post("send_to_client", s, "{\"CLIENTID\":" + Api.q(c.clientId)
          + ",\"Data\":1e400,\"data\":2E2,\"unknown\":{\"x\":[1,2]},\"CODE\":7}");
      assertEquals(0, r.code(), r.body());
      String frame = c.next();
      assertTrue(frame.endsWith(",\"code\":7,\"msg\":\"\",\"data\":2E2}\n"), frame);
      r = server.api.post("send_to_client", s, "{\"clientId\":" + Api.q(c.clientId) + ",\"data\":1e400,\"DATA\":null}");
      assertEquals(0, r.code(), r.body());
      assertTrue(c.next().endsWith(",\"data\":\"\"}\n"), "a later null clears the field, as today");
    }
  }
}

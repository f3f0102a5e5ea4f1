package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.TestServer;
import io.pekkosocket.auth.Tokens;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The API's direct path ({@code ApiRoutes.direct}, {@code socket.api.direct-path}) answers every call byte for byte
 * as the routing DSL does: the same raw HTTP requests, sent to a server with it on and one with it off, get the same
 * raw responses (status line, headers but {@code Date}, body, message ids aside), in the same order of calls.
 */
class DirectApiTest {
  static TestServer direct;
  static TestServer routed;

  @BeforeAll
  static void start() {
    // a small max-body: the request over it still arrives whole before either server answers (a 1 MiB one is
    // answered 413 and closed while the test is still writing it: a broken pipe, not an answer to compare)
    direct = TestServer.start(Map.of("socket.api.direct-path", "on", "socket.api.max-body", MAX_BODY));
    routed = TestServer.start(Map.of("socket.api.direct-path", "off", "socket.api.max-body", MAX_BODY));
  }

  @AfterAll
  static void stop() throws Exception {
    direct.close();
    routed.close();
  }

  private static final int MAX_BODY = 4096;
  private static final String SYSTEM = "direct-sys";
  private static final String ADMIN = "Authorization: Bearer " + TestServer.ADMIN;
  private static final String OWN = "Authorization: Bearer "
      + TestServer.TOKENS.issue(Tokens.SYSTEM, SYSTEM, null, Duration.ofHours(1));
  private static final String OTHER = "Authorization: Bearer "
      + TestServer.TOKENS.issue(Tokens.SYSTEM, "someone-else", null, Duration.ofHours(1));
  private static final String CLIENT = "Authorization: Bearer "
      + TestServer.TOKENS.issue(Tokens.CLIENT, SYSTEM, "u1", Duration.ofHours(1));

  /** One raw request: method, path, headers, body. */
  private record Call(String method, String path, List<String> headers, String body) {
    byte[] bytes() {
      StringBuilder b = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n")
          .append("Host: 127.0.0.1\r\nConnection: close\r\n");
      for (String h : headers) b.append(h).append("\r\n");
      byte[] content = body.getBytes(StandardCharsets.UTF_8);
      if (!method.equals("GET")) b.append("Content-Type: application/json\r\nContent-Length: ").append(content.length).append("\r\n");
      b.append("\r\n");
      byte[] head = b.toString().getBytes(StandardCharsets.UTF_8);
      byte[] all = new byte[head.length + (method.equals("GET") ? 0 : content.length)];
      System.arraycopy(head, 0, all, 0, head.length);
      if (!method.equals("GET")) System.arraycopy(content, 0, all, head.length, content.length);
      return all;
    }
  }

  private static Call post(String op, String body, String... headers) {
    return new Call("POST", "/api/" + op, List.of(headers), body);
  }

  /** The calls, in order: the happy paths of the direct path, and every refusal it leaves to the route or makes. */
  private static List<Call> calls() {
    String big = "x".repeat(MAX_BODY + 10);
    return List.of(
        post("register", "{\"systemId\":\"" + SYSTEM + "\"}", ADMIN),
        post("register", "{\"systemId\":\"" + SYSTEM + "\"}", ADMIN),
        post("get_online_list", "{\"groupName\":\"g\"}", OWN, "SystemId: " + SYSTEM),
        post("get_all_groups", "{}", ADMIN, "SystemId: " + SYSTEM),
        post("send_to_group", "{\"groupName\":\"g\",\"data\":\"hi\"}", OWN, "SystemId: " + SYSTEM),
        post("send_to_client", "{\"clientId\":\"n1.nobody\",\"data\":{\"a\":[1,2]}}", OWN, "SystemId: " + SYSTEM),
        post("send_to_clients", "{\"clientIds\":[\"n1.x\",\"n1.y\"],\"data\":\"hi\"}", OWN, "SystemId: " + SYSTEM),
        post("bind_to_group", "{\"clientId\":\"n1.nobody\",\"groupName\":\"g\"}", OWN, "SystemId: " + SYSTEM),
        post("close_client", "{\"clientId\":\"n1.nobody\"}", OWN, "SystemId: " + SYSTEM),
        post("batch", "{\"commands\":[{\"op\":\"send_to_group\",\"groupName\":\"g\",\"data\":1},{\"op\":\"nope\"}]}",
            OWN, "SystemId: " + SYSTEM),
        post("send_to_system", "{\"data\":\"hi\"}", OWN, "SystemId: unknown-system"),
        // characters outside the BMP, and a lone surrogate, echoed back in an answer (a command's own error)
        post("batch", "{\"commands\":[{\"op\":\"\\ud83c\\udf89\"},{\"op\":\"\\ud800\"},{\"op\":\"caf\\u00e9\"}]}",
            OWN, "SystemId: " + SYSTEM),
        // refusals: auth, roles, system id, bodies, operations
        post("send_to_group", "{\"groupName\":\"g\",\"data\":\"hi\"}", "SystemId: " + SYSTEM),
        post("send_to_group", "{\"groupName\":\"g\",\"data\":\"hi\"}", "Authorization: Bearer junk", "SystemId: " + SYSTEM),
        post("send_to_group", "{\"groupName\":\"g\",\"data\":\"hi\"}", OTHER, "SystemId: " + SYSTEM),
        post("send_to_group", "{\"groupName\":\"g\",\"data\":\"hi\"}", CLIENT, "SystemId: " + SYSTEM),
        post("register", "{\"systemId\":\"x1\"}", OWN, "SystemId: " + SYSTEM),
        post("send_to_group", "{\"groupName\":\"g\",\"data\":\"hi\"}", OWN),
        post("send_to_group", "{\"groupName\":\"g\",\"data\":", OWN, "SystemId: " + SYSTEM),
        post("send_to_group", "[1,2]", OWN, "SystemId: " + SYSTEM),
        post("send_to_group", "", OWN, "SystemId: " + SYSTEM),
        post("send_to_group", "{\"data\":\"hi\"}", OWN, "SystemId: " + SYSTEM),
        post("send_to_group", "{\"groupName\":\"g\",\"data\":\"" + big + "\"}", OWN, "SystemId: " + SYSTEM),
        post("no_such_operation", "{}", OWN, "SystemId: " + SYSTEM),
        post("Send_To_Group", "{}", OWN, "SystemId: " + SYSTEM),
        post("send_to_group/", "{}", OWN, "SystemId: " + SYSTEM),
        post("", "{}", OWN, "SystemId: " + SYSTEM),
        new Call("GET", "/api/send_to_group", List.of(OWN, "SystemId: " + SYSTEM), ""),
        new Call("PUT", "/api/send_to_group", List.of(OWN, "SystemId: " + SYSTEM), "{}"),
        // content negotiation is the route's: the direct path takes only plain JSON-accepting calls
        post("get_all_groups", "{}", ADMIN, "SystemId: " + SYSTEM, "Accept: */*"),
        post("get_all_groups", "{}", ADMIN, "SystemId: " + SYSTEM, "Accept: application/json"),
        post("get_all_groups", "{}", ADMIN, "SystemId: " + SYSTEM, "Accept: text/html"),
        post("get_all_groups", "{}", ADMIN, "SystemId: " + SYSTEM, "Accept: application/json;q=0.5, text/plain"),
        post("get_all_groups", "{}", ADMIN, "SystemId: " + SYSTEM, "Accept-Charset: iso-8859-5"),
        post("get_all_groups", "{}", ADMIN, "SystemId: " + SYSTEM, "Accept: */*", "Accept: application/json;q=0"),
        post("get_all_groups?x=1", "{}", ADMIN, "SystemId: " + SYSTEM));
  }

  /** The response's bytes without the Date header (the one line that differs by when it was sent). */
  private static String exchange(TestServer server, Call call) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
      s.setSoTimeout(15_000);
      s.getOutputStream().write(call.bytes());
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) != -1; ) all.write(buf, 0, n);
      List<String> lines = new ArrayList<>();
      for (String line : all.toString(StandardCharsets.UTF_8).split("\r\n", -1)) {
        if (!line.regionMatches(true, 0, "Date:", 0, 5)) lines.add(line);
      }
      // message ids are random on each server: the same length, so Content-Length still compares
      return String.join("\r\n", lines).replaceAll("\":\"[0-9a-f]{16}\"", "\":\"<message id>\"");
    }
  }

  @Test
  void everyCallIsAnsweredByteForByteAsTheRouteAnswersIt() throws Exception {
    int answered = 0;
    for (Call call : calls()) {
      String viaDirect = exchange(direct, call);
      String viaRoute = exchange(routed, call);
      String what = call.method() + " " + call.path() + " " + call.headers();
      assertTrue(viaRoute.startsWith("HTTP/1.1 "), what + ": no response: " + viaRoute);
      assertEquals(viaRoute, viaDirect, what);
      answered++;
    }
    assertEquals(calls().size(), answered);
    // and the two paths really were two: most calls took the direct path on one server, none on the other
    assertTrue(direct(direct) >= 20, "calls answered by the direct path: " + direct(direct));
    assertEquals(0, direct(routed));
  }

  private static double direct(TestServer server) throws Exception {
    return value(exchange(server, new Call("GET", "/metrics", List.of(), "")), "socket_api_direct_total ");
  }

  private static double value(String metrics, String prefix) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(prefix)) return Double.parseDouble(line.substring(prefix.length()).trim());
    }
    throw new AssertionError("no " + prefix + "in " + metrics);
  }

  @Test
  void theDirectPathCountsItsCallsInTheApiMetrics() throws Exception {
    String before = exchange(direct, new Call("GET", "/metrics", List.of(), ""));
    String register = exchange(direct, post("register", "{\"systemId\":\"metrics-sys\"}", ADMIN));
    assertTrue(register.startsWith("HTTP/1.1 200 OK"), register);
    String after = exchange(direct, new Call("GET", "/metrics", List.of(), ""));
    assertEquals(count(before) + 1, count(after), "one more register answered 200");
  }

  private static double count(String metrics) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith("socket_api_requests_seconds_count{") && line.contains("operation=\"register\"")
          && line.contains("status=\"200\"")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
      }
    }
    return 0;
  }
}

package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.Api;
import io.pekkosocket.RawWsClient;
import io.pekkosocket.TestServer;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Session resumption (PROTOCOL.md "Resumption"), over real sockets: the connections are raw, so that a lost network
 * is a real TCP reset, and every frame is read as the bytes the server wrote.
 */
class ResumptionTest {
  /** Each test has a server of its own: the count of waiting sessions is node-wide. */
  TestServer server;

  @BeforeEach
  void start() {
    server = TestServer.start();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  /** A connection and what its welcome said. */
  record Session(RawWsClient ws, String clientId, String token, JsonNode welcome) {}

  static Session open(TestServer s, String systemId, String query) throws IOException {
    RawWsClient ws = new RawWsClient(s.port(), "/ws?systemId=" + enc(systemId) + query, 0);
    String text = ws.readText();
    JsonNode welcome = Api.JSON.readTree(text).get("data");
    JsonNode token = welcome.get("resumeToken");
    return new Session(ws, welcome.get("clientId").asText(), token == null ? null : token.asText(), welcome);
  }

  /** A resumable client and a plain one that watches it, both in group "g"; the watcher has read the two 1001s. */
  record Pair(Session resumable, Session watcher) {}

  static Pair resumableWithAWatcher(TestServer s, String systemId) throws IOException {
    Session a = open(s, systemId, "&resume=1");
    Session m = open(s, systemId, "");
    s.api.bind(systemId, m.clientId(), "g").ok();
    s.api.bind(systemId, a.clientId(), "g").ok();
    assertEquals(List.of("1001 " + m.clientId(), "1001 " + a.clientId()), labels(m.ws(), 2));
    return new Pair(a, m);
  }

  static Session resume(TestServer s, String systemId, String token, String last) throws IOException {
    return open(s, systemId, "&resume=" + enc(token) + "&last=" + enc(last));
  }

  static String enc(String v) {
    return URLEncoder.encode(v, StandardCharsets.UTF_8);
  }

  /** A business push's {@code data}, or "1001 <clientId>"/"1002 <clientId>" for a membership notice. */
  static String label(String frame) throws IOException {
    JsonNode f = Api.JSON.readTree(frame);
    int code = f.get("code").asInt();
    if (code == 1001 || code == 1002) {
      return code + " " + Api.JSON.readTree(f.get("data").asText()).get("clientId").asText();
    }
    return f.get("data").asText();
  }

  static String messageId(String frame) throws IOException {
    return Api.JSON.readTree(frame).get("messageId").asText();
  }

  static List<String> labels(RawWsClient ws, int n) throws IOException {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) out.add(label(ws.readText()));
    return out;
  }

  /** A clean close from the client (1000): its session ends at once, it does not wait for a resume. */
  static void bye(RawWsClient ws) throws IOException {
    ws.send(8, true, new byte[] {0x03, (byte) 0xE8});
    ws.readUntilClose();
    ws.close();
  }

  static double detached(TestServer s) {
    return MetricsTest.value(s.api.get("/metrics").body(), "socket_sessions_detached");
  }

  /** Waits (bounded) until the server holds {@code n} sessions waiting for a resume. */
  static void awaitDetached(TestServer s, int n) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (detached(s) != n) {
      if (System.nanoTime() > deadline) fail("sessions waiting: " + detached(s) + ", expected " + n);
      Thread.sleep(20);
    }
  }

  @Test
  void aClientThatDoesNotAskForResumptionGetsTodaysWelcomeBytes() throws Exception {
    String sys = server.newSystem();
    try (RawWsClient ws = new RawWsClient(server.port(), "/ws?systemId=" + enc(sys), 0)) {
      String welcome = ws.readText();
      assertTrue(welcome.matches("\\{\"code\":0,\"msg\":\"success\",\"data\":\\{\"clientId\":\"n1\\.[A-Za-z0-9_-]{22}\"}}\n"),
          welcome);
    }
  }

  @Test
  void resumeOneWelcomesWithATokenAfterTheClientId() throws Exception {
    String sys = server.newSystem();
    try (RawWsClient ws = new RawWsClient(server.port(), "/ws?systemId=" + enc(sys) + "&resume=1", 0)) {
      String welcome = ws.readText();
      assertTrue(welcome.matches("\\{\"code\":0,\"msg\":\"success\",\"data\":\\{\"clientId\":\"n1\\.[A-Za-z0-9_-]{22}\","
          + "\"resumeToken\":\"[A-Za-z0-9_.-]+\"}}\n"), welcome);
    }
  }

  @Test
  void aLostConnectionResumedWithinTheWindowKeepsItsClientIdAndGroupsAndGetsEveryMissedFrameOnceInOrder()
      throws Exception {
    String sys = server.newSystem();
    Session a = open(server, sys, "&resume=1");
    Session m = open(server, sys, "");
    Session leaver = open(server, sys, "");
    server.api.bind(sys, m.clientId(), "g").ok();
    server.api.bind(sys, a.clientId(), "g", "alice", "x").ok();
    server.api.bind(sys, leaver.clientId(), "g").ok();
    server.api.sendToGroup(sys, "g", "p0").ok();
    assertEquals(List.of("1001 " + a.clientId(), "1001 " + leaver.clientId(), "p0"), labels(a.ws(), 3));
    assertEquals(List.of("1001 " + m.clientId(), "1001 " + a.clientId(), "1001 " + leaver.clientId(), "p0"),
        labels(m.ws(), 4));
    // a has processed everything up to p0, and a direct push after it: its last messageId
    server.api.sendToClient(sys, a.clientId(), "d0").ok();
    String d0 = a.ws().readText();
    assertEquals("d0", label(d0));
    String last = messageId(d0);

    a.ws().reset();
    awaitDetached(server, 1);
    // while a is away: a group push, a direct push (counted: its session's queue accepted it), a member leaving,
    // a new member
    assertEquals(3, server.api.sendToGroup(sys, "g", "p1").ok().data().delivered());
    assertTrue(server.api.sendToClient(sys, a.clientId(), "d1").ok().data().delivered());
    bye(leaver.ws());
    assertEquals(List.of("p1", "1002 " + leaver.clientId()), labels(m.ws(), 2));
    Session n = open(server, sys, "");
    server.api.bind(sys, n.clientId(), "g").ok();
    assertEquals(List.of(m.clientId(), a.clientId(), n.clientId()), server.api.onlineList(sys, "g").ok().data().list(),
        "a is still a member while it is away");

    Session back = resume(server, sys, a.token(), last);
    assertEquals(a.clientId(), back.clientId(), "the same clientId");
    assertTrue(back.welcome().get("resumed").asBoolean());
    assertNotEquals(a.token(), back.token(), "a fresh token");
    assertEquals(List.of("p1", "d1", "1002 " + leaver.clientId(), "1001 " + n.clientId()), labels(back.ws(), 4),
        "every missed frame, once, in order");
    assertEquals(0, (int) detached(server));

    server.api.sendToGroup(sys, "g", "p2").ok();
    assertEquals("p2", label(back.ws().readText()), "then live frames, the group kept");
    // the other member saw a neither leave nor join again
    assertEquals(List.of("1001 " + n.clientId(), "p2"), labels(m.ws(), 2));
    assertEquals(List.of(m.clientId(), a.clientId(), n.clientId()), server.api.onlineList(sys, "g").ok().data().list());
    back.ws().close();
    m.ws().close();
    n.ws().close();
  }

  @Test
  void aResumeWhileTheOldConnectionStillLooksAliveTakesTheSessionOver() throws Exception {
    String sys = server.newSystem();
    Session a = open(server, sys, "&resume=1");
    server.api.sendToClient(sys, a.clientId(), "d0").ok();
    String last = messageId(a.ws().readText());
    server.api.sendToClient(sys, a.clientId(), "d1").ok(); // written to the old socket, never read by the client

    Session back = resume(server, sys, a.token(), last);
    assertTrue(back.welcome().get("resumed").asBoolean());
    assertEquals(a.clientId(), back.clientId());
    assertEquals("d1", label(back.ws().readText()), "what the old socket was written is replayed");
    RawWsClient.Frame close = a.ws().readUntilClose();
    assertNotNull(close, "the old socket is closed");
    assertEquals(1000, close.closeCode());
    server.api.sendToClient(sys, a.clientId(), "d2").ok();
    assertEquals("d2", label(back.ws().readText()));
    back.ws().close();
  }

  @Test
  void whenTheWindowPassesTheGroupGetsThe1002AndTheTokenNoLongerResumes() throws Exception {
    try (TestServer shortWindow = TestServer.start(Map.of("socket.ws.resume-window", "1 s"))) {
      whenTheWindowPasses(shortWindow);
    }
  }

  private static void whenTheWindowPasses(TestServer shortWindow) throws Exception {
    String sys = shortWindow.newSystem();
    Pair pair = resumableWithAWatcher(shortWindow, sys);
    Session a = pair.resumable();
    Session m = pair.watcher();
    a.ws().reset();
    assertEquals("1002 " + a.clientId(), label(m.ws().readText()), "the 1002 once the window has passed");
    Session late = resume(shortWindow, sys, a.token(), "");
    assertFalse(late.welcome().get("resumed").asBoolean());
    assertNotEquals(a.clientId(), late.clientId(), "a new clientId");
    assertNotNull(late.token(), "still resumable");
    late.ws().close();
    m.ws().close();
  }

  @Test
  void aCleanCloseFromTheClientEndsTheSessionAtOnce() throws Exception {
    String sys = server.newSystem();
    Pair pair = resumableWithAWatcher(server, sys);
    Session a = pair.resumable();
    Session m = pair.watcher();
    a.ws().send(8, true, new byte[] {0x03, (byte) 0xE8}); // close 1000
    assertEquals("1002 " + a.clientId(), label(m.ws().readText()));
    assertFalse(resume(server, sys, a.token(), "").welcome().get("resumed").asBoolean());
    m.ws().close();
  }

  @Test
  void forgedReusedAndForeignTokensAndAnUnknownLastStartAfresh() throws Exception {
    String sys = server.newSystem();
    String other = server.newSystem();
    Session a = open(server, sys, "&resume=1");
    a.ws().reset();
    awaitDetached(server, 1);

    Session forged = resume(server, sys, a.token().substring(0, a.token().length() - 2) + "AA", "");
    assertFalse(forged.welcome().get("resumed").asBoolean());
    Session garbage = resume(server, sys, "not-a-token", "");
    assertFalse(garbage.welcome().get("resumed").asBoolean());
    Session foreign = resume(server, other, a.token(), "");
    assertFalse(foreign.welcome().get("resumed").asBoolean(), "a token of another system");
    Session unknownLast = resume(server, sys, a.token(), "0123456789abcdef");
    assertFalse(unknownLast.welcome().get("resumed").asBoolean(), "a last that was never sent");
    for (Session s : List.of(forged, garbage, foreign, unknownLast)) {
      assertNotEquals(a.clientId(), s.clientId());
      bye(s.ws());
    }
    assertEquals(1, (int) detached(server), "failed resumes leave the session waiting");

    Session back = resume(server, sys, a.token(), "");
    assertTrue(back.welcome().get("resumed").asBoolean(), "the real token still resumes");
    back.ws().reset();
    awaitDetached(server, 1);
    Session reused = resume(server, sys, a.token(), "");
    assertFalse(reused.welcome().get("resumed").asBoolean(), "a token is good for one resume");
    Session again = resume(server, sys, back.token(), "");
    assertTrue(again.welcome().get("resumed").asBoolean(), "the newest token resumes");
    assertEquals(a.clientId(), again.clientId());
    reused.ws().close();
    again.ws().close();
  }

  @Test
  void aLastNoLongerKeptStartsAfresh() throws Exception {
    try (TestServer small = TestServer.start(Map.of("socket.ws.resume-buffer", 2))) {
      aLastNoLongerKept(small);
    }
  }

  private static void aLastNoLongerKept(TestServer small) throws Exception {
    String sys = small.newSystem();
    Session a = open(small, sys, "&resume=1");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      small.api.sendToClient(sys, a.clientId(), "d" + i).ok();
      ids.add(messageId(a.ws().readText()));
    }
    a.ws().reset();
    awaitDetached(small, 1);
    Session tooOld = resume(small, sys, a.token(), ids.get(0));
    assertFalse(tooOld.welcome().get("resumed").asBoolean(), "d1 is no longer kept");
    Session back = resume(small, sys, a.token(), ids.get(2));
    assertTrue(back.welcome().get("resumed").asBoolean(), "d2 is kept: d3 follows it");
    assertEquals("d3", label(back.ws().readText()));
    tooOld.ws().close();
    back.ws().close();
  }

  @Test
  void beyondTheDetachedSessionsCapALostConnectionEndsItsSessionAtOnce() throws Exception {
    try (TestServer capped = TestServer.start(Map.of("socket.limits.detached-sessions", 0))) {
      String sys = capped.newSystem();
      Pair pair = resumableWithAWatcher(capped, sys);
      Session a = pair.resumable();
      Session m = pair.watcher();
      a.ws().reset();
      assertEquals("1002 " + a.clientId(), label(m.ws().readText()), "no room to wait: the session ends");
      assertFalse(resume(capped, sys, a.token(), "").welcome().get("resumed").asBoolean());
    }
  }

  @Test
  void aWaitingSessionWhoseQueueOverflowsEnds() throws Exception {
    try (TestServer small = TestServer.start(Map.of("socket.ws.outbound-buffer.frames", 4))) {
      String sys = small.newSystem();
      Pair pair = resumableWithAWatcher(small, sys);
      Session a = pair.resumable();
      Session m = pair.watcher();
      a.ws().reset();
      awaitDetached(small, 1);
      int accepted = 0;
      for (int i = 0; i < 5; i++) {
        if (small.api.sendToClient(sys, a.clientId(), "d" + i).ok().data().delivered()) accepted++;
      }
      assertEquals(4, accepted, "the waiting session's queue takes what its limits allow, counted as delivered");
      assertEquals("1002 " + a.clientId(), label(m.ws().readText()), "and ends when it overflows");
      awaitDetached(small, 0);
      assertFalse(resume(small, sys, a.token(), "").welcome().get("resumed").asBoolean());
    }
  }

  @Test
  void closeClientEndsAWaitingSessionAtOnce() throws Exception {
    String sys = server.newSystem();
    Pair pair = resumableWithAWatcher(server, sys);
    Session a = pair.resumable();
    Session m = pair.watcher();
    a.ws().reset();
    awaitDetached(server, 1);
    server.api.closeClient(sys, a.clientId()).ok();
    assertEquals("1002 " + a.clientId(), label(m.ws().readText()), "the backend closed it: its groups hear at once");
    awaitDetached(server, 0);
    assertFalse(resume(server, sys, a.token(), "").welcome().get("resumed").asBoolean());
  }
}

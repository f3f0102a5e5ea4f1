package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.algorithms.Algorithm;
import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.Api;
import io.pekkosocket.MainTokens;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import io.pekkosocket.auth.Tokens;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 9 item 2: a signing key per system ({@code rotate_system_key}), the {@code kid} rules of PROTOCOL.md, the
 * grace period of the previous key (cached tokens included), the key's durability, and the CLI minting with it.
 */
class SystemKeyTest {
  static TestServer server;
  static final String UNAUTHORIZED = "{\"code\":-1,\"msg\":\"unauthorized\",\"data\":[]}";
  static final String FORBIDDEN = "{\"code\":-1,\"msg\":\"forbidden\",\"data\":[]}";
  static final String EMPTY_OBJECT = "{\"code\":0,\"msg\":\"success\",\"data\":{}}";

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("socket.ws.require-token", "on"));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** A token signed with {@code key} (the text shown by rotate_system_key), header {@code kid}. */
  static String signed(String key, String kid, String role, String systemId, String userId) {
    JWTCreator.Builder b = JWT.create().withClaim("role", role).withIssuedAt(Instant.now())
        .withExpiresAt(Instant.now().plusSeconds(3600));
    if (kid != null) b.withKeyId(kid);
    if (systemId != null) b.withClaim("systemId", systemId);
    if (userId != null) b.withClaim("userId", userId);
    return b.sign(Algorithm.HMAC256(key.getBytes(StandardCharsets.UTF_8)));
  }

  static String rotate(TestServer on, String systemId, long graceSeconds) {
    Api.Response r = on.api.post("rotate_system_key", null,
        "{\"systemId\":" + Api.q(systemId) + ",\"graceSeconds\":" + graceSeconds + "}");
    assertEquals(200, r.status(), r.body());
    String key = r.data().path("key").asText();
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"systemId\":" + Api.q(systemId) + ",\"kid\":"
        + Api.q(systemId) + ",\"key\":" + Api.q(key) + "}}", r.body());
    return key;
  }

  static Api.Response groups(TestServer on, String token, String systemId) {
    return on.api.withToken(token).post("get_all_groups", systemId, "{}");
  }

  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) fail("not within 30 s: " + what);
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }


  @Test
  void rotateAnswersANewRandomKeyShownOnce() {
    String s = server.newSystem();
    String first = rotate(server, s, 0);
    String second = rotate(server, s, 0);
    assertTrue(first.matches("[A-Za-z0-9_-]{43}"), first);
    assertNotEquals(first, second);
    // the default grace: the body needs only systemId
    Api.Response r = server.api.post("rotate_system_key", null, "{\"SYSTEMID\":" + Api.q(s) + "}");
    assertEquals(0, r.code(), r.body());
    assertEquals(EMPTY_OBJECT, groups(server, signed(second, s, Tokens.SYSTEM, s, null), s).body(),
        "the previous key still verifies in the default grace");
  }

  @Test
  void registerAnswersByteForByteAsBefore() {
    String id = "reg-" + System.nanoTime();
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":[]}",
        server.api.post("register", null, "{\"systemId\":" + Api.q(id) + "}").body());
    rotate(server, id, 0);
    assertEquals("{\"code\":-1,\"msg\":\"该系统ID已被注册\",\"data\":[]}",
        server.api.post("register", null, "{\"systemId\":" + Api.q(id) + "}").body());
    assertEquals("{\"code\":-1,\"msg\":\"SystemId为必填字段\",\"data\":[]}",
        server.api.post("register", null, "{}").body());
  }

  @Test
  void rotateIsAdminOnlyAndValidatesItsBody() {
    String s = server.newSystem();
    String key = rotate(server, s, 0);
    String body = "{\"systemId\":" + Api.q(s) + "}";
    for (String token : new String[] {TestServer.TOKENS.issue(Tokens.SYSTEM, s, null, Duration.ofHours(1)),
        TestServer.TOKENS.issue(Tokens.CLIENT, s, null, Duration.ofHours(1))}) {
      Api.Response r = server.api.withToken(token).post("rotate_system_key", s, body);
      assertEquals(403, r.status());
      assertEquals(FORBIDDEN, r.body());
    }
    Api.Response own = server.api.withToken(signed(key, s, Tokens.SYSTEM, s, null)).post("rotate_system_key", s, body);
    assertEquals(403, own.status(), "a tenant cannot rotate even its own key");
    assertEquals("{\"code\":-1,\"msg\":\"SystemId为必填字段\",\"data\":[]}",
        server.api.post("rotate_system_key", null, "{}").body());
    assertEquals("{\"code\":-1,\"msg\":\"系统ID无效\",\"data\":[]}",
        server.api.post("rotate_system_key", null, "{\"systemId\":\"nobody-" + System.nanoTime() + "\"}").body());
    for (String grace : new String[] {"-1", "2592001", "9223372036854775807"}) {
      Api.Response r = server.api.post("rotate_system_key", null,
          "{\"systemId\":" + Api.q(s) + ",\"graceSeconds\":" + grace + "}");
      assertEquals(200, r.status(), grace);
      assertEquals("{\"code\":-1,\"msg\":\"graceSeconds must be an integer from 0 to 2592000\",\"data\":[]}",
          r.body(), grace);
    }
    for (String grace : new String[] {"\"60\"", "1.5", "true", "[]"}) {
      Api.Response r = server.api.post("rotate_system_key", null,
          "{\"systemId\":" + Api.q(s) + ",\"graceSeconds\":" + grace + "}");
      assertEquals(400, r.status(), grace);
    }
    assertEquals(EMPTY_OBJECT, groups(server, signed(key, s, Tokens.SYSTEM, s, null), s).body(),
        "no refused call rotated the key");
  }

  @Test
  void aSystemKeySignsSystemAndClientTokensForThatSystemOnly() {
    String a = server.newSystem();
    String b = server.newSystem();
    String keyA = rotate(server, a, 0);
    rotate(server, b, 0);
    assertEquals(EMPTY_OBJECT, groups(server, signed(keyA, a, Tokens.SYSTEM, a, null), a).body());
    // the server secret still signs tokens for a system that has a key
    assertEquals(EMPTY_OBJECT, groups(server, TestServer.TOKENS.issue(Tokens.SYSTEM, a, null, Duration.ofHours(1)), a)
        .body());
    // a kid token verifies only for its kid: SystemId header, systemId claim and kid must agree
    String valid = signed(keyA, a, Tokens.SYSTEM, a, null);
    String claimsB = signed(keyA, a, Tokens.SYSTEM, b, null);
    String kidB = signed(keyA, b, Tokens.SYSTEM, b, null);
    String[][] refused = {{valid, b}, {valid, null}, {claimsB, a}, {claimsB, b}, {kidB, a}, {kidB, b}};
    for (String[] call : refused) {
      Api.Response r = server.api.withToken(call[0]).post("send_to_system", call[1], "{\"data\":\"x\"}");
      assertEquals(401, r.status(), "SystemId " + call[1]);
      assertEquals(UNAUTHORIZED, r.body());
    }
    // a client token signed with the key: /ws of its system only, never the API
    String client = signed(keyA, a, Tokens.CLIENT, a, "alice");
    try (WsClient c = WsClient.open(server.wsUrl(a) + "&token=" + client, Map.of())) {
      c.awaitWelcome();
      server.api.bind(a, c.clientId, "g").ok();
      assertEquals("alice", c.nextJson().get("sendUserId").asText());
    }
    assertEquals(403, groups(server, client, a).status());
    Refusals.assertUnauthorizedOnWs(server.wsUrl(b) + "&token=" + client);
    Refusals.assertUnauthorizedOnWs(server.wsUrl(b) + "&token=" + signed(keyA, b, Tokens.CLIENT, b, "alice"));
    Refusals.assertUnauthorizedOnWs(server.wsUrl(a) + "&token=" + signed(keyA, a, Tokens.SYSTEM, a, "alice"));
  }

  @Test
  void aSystemKeyNeverMakesAnAdmin() {
    String a = server.newSystem();
    String keyA = rotate(server, a, 0);
    String newId = "{\"systemId\":\"evil-" + System.nanoTime() + "\"}";
    for (String token : new String[] {signed(keyA, a, Tokens.ADMIN, null, null), signed(keyA, a, Tokens.ADMIN, a, null)}) {
      Api api = server.api.withToken(token);
      for (Api.Response r : new Api.Response[] {api.post("register", null, newId), api.post("register", a, newId),
          api.post("rotate_system_key", a, "{\"systemId\":" + Api.q(a) + "}"), api.post("get_all_groups", a, "{}")}) {
        assertEquals(401, r.status());
        assertEquals(UNAUTHORIZED, r.body());
      }
    }
    Refusals.assertUnauthorizedOnWs(server.wsUrl(a) + "&token=" + signed(keyA, a, Tokens.ADMIN, a, null));
  }

  @Test
  void aKidNamingASystemWithoutAKeyOrNoSystemIs401() {
    String keyless = server.newSystem();
    String someKey = rotate(server, server.newSystem(), 0);
    String unknown = "unknown-" + System.nanoTime();
    for (String token : new String[] {signed(someKey, keyless, Tokens.SYSTEM, keyless, null),
        signed(TestServer.SECRET, keyless, Tokens.SYSTEM, keyless, null),
        signed(someKey, unknown, Tokens.SYSTEM, unknown, null), signed(TestServer.SECRET, "", Tokens.SYSTEM, keyless, null)}) {
      Api.Response r = groups(server, token, keyless);
      assertEquals(401, r.status());
      assertEquals(UNAUTHORIZED, r.body());
    }
    Refusals.assertUnauthorizedOnWs(server.wsUrl(keyless) + "&token=" + signed(TestServer.SECRET, keyless, Tokens.CLIENT, keyless, "u"));
    // and the keyless system keeps working with the server secret
    assertEquals(EMPTY_OBJECT, groups(server, TestServer.TOKENS.issue(Tokens.SYSTEM, keyless, null,
        Duration.ofHours(1)), keyless).body());
  }

  @Test
  void thePreviousKeyVerifiesDuringItsGrace() {
    String s = server.newSystem();
    String old = rotate(server, s, 0);
    String cached = signed(old, s, Tokens.SYSTEM, s, null);
    assertEquals(EMPTY_OBJECT, groups(server, cached, s).body());
    String fresh = rotate(server, s, 3600);
    assertEquals(EMPTY_OBJECT, groups(server, cached, s).body(), "verified and cached before the rotation");
    assertEquals(EMPTY_OBJECT, groups(server, signed(old, s, Tokens.SYSTEM, s, "new"), s).body(), "never seen before");
    assertEquals(EMPTY_OBJECT, groups(server, signed(fresh, s, Tokens.SYSTEM, s, null), s).body());
  }

  @Test
  void thePreviousKeyStopsWhenItsGraceEndsEvenForACachedToken() {
    String s = server.newSystem();
    String old = rotate(server, s, 0);
    String cached = signed(old, s, Tokens.SYSTEM, s, null);
    String cachedClient = signed(old, s, Tokens.CLIENT, s, "u");
    assertEquals(EMPTY_OBJECT, groups(server, cached, s).body());
    try (WsClient c = WsClient.open(server.wsUrl(s) + "&token=" + cachedClient, Map.of())) {
      c.awaitWelcome();
    }
    String fresh = rotate(server, s, 1);
    await("the old key's grace ends", () -> groups(server, cached, s).status() == 401);
    assertEquals(UNAUTHORIZED, groups(server, cached, s).body());
    assertEquals(401, groups(server, signed(old, s, Tokens.SYSTEM, s, "new"), s).status());
    Refusals.assertUnauthorizedOnWs(server.wsUrl(s) + "&token=" + cachedClient);
    assertEquals(EMPTY_OBJECT, groups(server, signed(fresh, s, Tokens.SYSTEM, s, null), s).body());
  }

  @Test
  void graceZeroRetiresThePreviousKeyAtOnce() {
    String s = server.newSystem();
    String old = rotate(server, s, 0);
    String cached = signed(old, s, Tokens.SYSTEM, s, null);
    assertEquals(EMPTY_OBJECT, groups(server, cached, s).body());
    rotate(server, s, 0);
    assertEquals(401, groups(server, cached, s).status());
  }

  @Test
  void aKeyAndItsPredecessorSurviveARestart() throws Exception {
    Path data = Files.createTempDirectory("pekko-socket-keys");
    String s = "restart-" + System.nanoTime();
    String previous;
    String current;
    try (TestServer first = TestServer.start(Map.of("socket.data-dir", data.toString()))) {
      first.api.post("register", null, "{\"systemId\":" + Api.q(s) + "}");
      previous = rotate(first, s, 0);
      current = rotate(first, s, 3600);
    }
    try (TestServer second = TestServer.start(Map.of("socket.data-dir", data.toString()))) {
      assertEquals(EMPTY_OBJECT, groups(second, signed(current, s, Tokens.SYSTEM, s, null), s).body());
      assertEquals(EMPTY_OBJECT, groups(second, signed(previous, s, Tokens.SYSTEM, s, null), s).body(),
          "the grace survives too");
      assertEquals(401, groups(second, signed("not-the-key", s, Tokens.SYSTEM, s, null), s).status());
    }
  }

  @Test
  void theCliMintsWithASystemKeyForThatSystemOnly() throws Exception {
    String a = server.newSystem();
    String b = server.newSystem();
    String keyA = rotate(server, a, 0);
    rotate(server, b, 0);
    Path keyFile = Files.createTempFile("system-key", ".txt");
    Files.writeString(keyFile, keyA + "\n");
    // a tenant's backend has its key, not the server's secret
    io.pekkosocket.Settings noSecret = io.pekkosocket.Settings.from(com.typesafe.config.ConfigFactory
        .parseResources("socket-defaults.conf").withFallback(com.typesafe.config.ConfigFactory.defaultReference())
        .resolve());
    MainTokens.Printed system = MainTokens.print(noSecret, Map.of(), "token", "--role", "system", "--system-id", a,
        "--key-file", keyFile.toString());
    assertEquals(0, system.status(), system.err());
    String token = system.out().trim();
    assertEquals(a, JWT.decode(token).getKeyId());
    assertEquals(EMPTY_OBJECT, groups(server, token, a).body());
    assertEquals(401, groups(server, token, b).status());

    MainTokens.Printed client = MainTokens.print(noSecret, Map.of("SOCKET_SYSTEM_KEY", keyA), "token", "--role",
        "client", "--system-id", a, "--user-id", "alice", "--ttl", "1h");
    assertEquals(0, client.status(), client.err());
    try (WsClient c = WsClient.open(server.wsUrl(a) + "&token=" + client.out().trim(), Map.of())) {
      c.awaitWelcome();
    }
    Refusals.assertUnauthorizedOnWs(server.wsUrl(b) + "&token=" + client.out().trim());
    assertEquals(403, groups(server, client.out().trim(), a).status());

    MainTokens.Printed wrong = MainTokens.print(noSecret, Map.of(), "token", "--role", "system", "--system-id", b,
        "--key-file", keyFile.toString());
    assertEquals(0, wrong.status(), wrong.err());
    assertEquals(401, groups(server, wrong.out().trim(), b).status(), "A's key cannot mint for B");

    assertEquals(2, MainTokens.print(noSecret, Map.of(), "token", "--role", "admin", "--key-file",
        keyFile.toString()).status(), "a system key never signs an admin token");
    assertEquals(2, MainTokens.print(noSecret, Map.of(), "token", "--role", "system", "--key-file",
        keyFile.toString()).status(), "a key needs the system it belongs to");
    assertEquals(2, MainTokens.print(noSecret, Map.of(), "token", "--role", "system", "--system-id", a, "--key-file",
        keyFile.resolveSibling("missing-" + System.nanoTime()).toString()).status());
  }
}

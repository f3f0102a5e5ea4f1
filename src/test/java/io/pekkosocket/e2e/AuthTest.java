package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import io.pekkosocket.auth.Tokens;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PROTOCOL.md's Auth rows: each bad-token kind separately, rights, and cross-system use. */
class AuthTest {
  static TestServer server;
  static final String UNAUTHORIZED = "{\"code\":-1,\"msg\":\"unauthorized\",\"data\":[]}";
  static final String FORBIDDEN = "{\"code\":-1,\"msg\":\"forbidden\",\"data\":[]}";
  static final byte[] SECRET = TestServer.SECRET.getBytes(StandardCharsets.UTF_8);

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static void assert401(String authorization) {
    Api.Response r = server.api.postWithAuthorization("get_all_groups", "any", authorization, "{}");
    String shown = authorization == null || authorization.length() < 80 ? authorization
        : authorization.substring(0, 80) + "…";
    assertEquals(401, r.status(), "for Authorization: " + shown);
    assertEquals(UNAUTHORIZED, r.body());
  }

  @Test
  void missingToken() {
    assert401(null);
  }

  @Test
  void malformedAndOddHeaders() {
    for (String h : List.of("", "Bearer", "Bearer ", "bearer x", "Basic dXNlcjpwYXNz", "Bearer a.b.c",
        "Bearer " + "x".repeat(4_000), "Bearer ...", "Bearer e30.e30.", "Token " + TestServer.ADMIN,
        TestServer.ADMIN)) {
      assert401(h);
    }
  }

  @Test
  void unsignedAlgNone() {
    String none = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + b64("{\"role\":\"admin\"}") + ".";
    assert401("Bearer " + none);
    String noneUpper = b64("{\"alg\":\"NONE\"}") + "." + b64("{\"role\":\"admin\"}") + ".";
    assert401("Bearer " + noneUpper);
  }

  @Test
  void wrongSignature() {
    String other = new Tokens("another-secret-another-secret-another-secret".getBytes(StandardCharsets.UTF_8))
        .issue(Tokens.ADMIN, null, null, Duration.ofHours(1));
    assert401("Bearer " + other);
    // tampered payload with the original signature
    String[] parts = TestServer.ADMIN.split("\\.");
    assert401("Bearer " + parts[0] + "." + b64("{\"role\":\"admin\",\"x\":1}") + "." + parts[2]);
  }

  @Test
  void wrongAlgorithm() {
    String hs512 = JWT.create().withClaim("role", "admin").sign(Algorithm.HMAC512(SECRET));
    assert401("Bearer " + hs512);
    String hs384 = JWT.create().withClaim("role", "admin").sign(Algorithm.HMAC384(SECRET));
    assert401("Bearer " + hs384);
  }

  @Test
  void expired() {
    String expired = JWT.create().withClaim("role", "admin").withExpiresAt(Instant.now().minusSeconds(5))
        .sign(Algorithm.HMAC256(SECRET));
    assert401("Bearer " + expired);
  }

  @Test
  void validTokenWithoutExpiryIsAccepted() {
    String noExp = JWT.create().withClaim("role", "admin").sign(Algorithm.HMAC256(SECRET));
    Api.Response r = server.api.withToken(noExp).post("register", null, "{\"systemId\":\"noexp-" + System.nanoTime()
        + "\"}");
    assertEquals(200, r.status());
    assertEquals(0, r.code());
  }

  @Test
  void systemTokenActsOnlyOnItsOwnSystemAndNeverRegisters() {
    String mine = server.newSystem();
    String theirs = server.newSystem();
    Api asMine = server.api.withToken(TestServer.TOKENS.issue(Tokens.SYSTEM, mine, null, Duration.ofHours(1)));
    try (WsClient c = server.connect(mine); WsClient victim = server.connect(theirs)) {
      Api.Response ok = asMine.post("send_to_client", mine, "{\"clientId\":" + Api.q(c.clientId) + ",\"data\":\"x\"}");
      assertEquals(200, ok.status());
      assertTrue(ok.data().get("delivered").asBoolean());
      for (String op : List.of("send_to_client", "send_to_clients", "send_to_group", "send_to_system",
          "bind_to_group", "unbind_from_group", "get_online_list", "get_all_groups", "close_client")) {
        Api.Response r = asMine.post(op, theirs, "{\"clientId\":" + Api.q(victim.clientId) + ",\"clientIds\":["
            + Api.q(victim.clientId) + "],\"groupName\":\"g\",\"data\":\"x\"}");
        assertEquals(403, r.status(), op);
        assertEquals(FORBIDDEN, r.body(), op);
      }
      Api.Response reg = asMine.post("register", null, "{\"systemId\":\"new-" + System.nanoTime() + "\"}");
      assertEquals(403, reg.status());
      assertEquals(FORBIDDEN, reg.body());
      // the victim saw nothing of it
      server.api.post("send_to_client", theirs, "{\"clientId\":" + Api.q(victim.clientId) + ",\"data\":\"ok\"}");
      assertEquals("ok", victim.nextJson().get("data").asText());
      assertEquals("x", c.nextJson().get("data").asText());
    }
  }

  @Test
  void tokenWithUnknownRoleIsForbidden() {
    Api odd = server.api.withToken(TestServer.TOKENS.issue("guest", null, null, Duration.ofHours(1)));
    Api.Response r = odd.post("get_all_groups", "x", "{}");
    assertEquals(403, r.status());
    assertEquals(FORBIDDEN, r.body());
  }

  @Test
  void connectTokensAreNotRequiredByDefault() {
    String s = server.newSystem();
    try (WsClient c = WsClient.open(server.wsUrl(s), Map.of())) {
      c.awaitWelcome();
    }
  }

  /** M4: a backend whose clock runs ahead; {@code socket.auth.leeway} (30 s) covers iat and nbf, never exp. */
  @Test
  void iatAndNbfAFewSecondsAheadAreAcceptedAMinuteAheadRefused() {
    Algorithm hs256 = Algorithm.HMAC256(SECRET);
    Instant now = Instant.now();
    String iat2 = JWT.create().withClaim("role", "admin").withIssuedAt(now.plusSeconds(2))
        .withExpiresAt(now.plusSeconds(3600)).sign(hs256);
    String nbf2 = JWT.create().withClaim("role", "admin").withNotBefore(now.plusSeconds(2))
        .withExpiresAt(now.plusSeconds(3600)).sign(hs256);
    for (String token : List.of(iat2, nbf2)) {
      Api.Response r = server.api.withToken(token).post("get_all_groups", server.newSystem(), "{}");
      assertEquals(200, r.status());
      assertEquals(0, r.code());
    }
    String iat60 = JWT.create().withClaim("role", "admin").withIssuedAt(now.plusSeconds(60))
        .withExpiresAt(now.plusSeconds(3600)).sign(hs256);
    String nbf60 = JWT.create().withClaim("role", "admin").withNotBefore(now.plusSeconds(60))
        .withExpiresAt(now.plusSeconds(3600)).sign(hs256);
    assert401("Bearer " + iat60);
    assert401("Bearer " + nbf60);
  }
}

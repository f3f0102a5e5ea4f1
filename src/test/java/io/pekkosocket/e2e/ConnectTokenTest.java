package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkosocket.Api;
import io.pekkosocket.RawWsClient;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import io.pekkosocket.auth.Tokens;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** socket.ws.require-token on: the token query parameter, its systemId and userId claims; the origin list. */
class ConnectTokenTest {
  static TestServer server;
  static final String REFUSED = Refusals.UNAUTHORIZED;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("socket.ws.require-token", "on",
        "socket.ws.allowed-origins", java.util.List.of("https://app.example")));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static void assertRefused(String url) {
    WsClient c = WsClient.open(url, Map.of());
    assertEquals(REFUSED, c.next());
    assertEquals(1008, c.awaitClose().code());
  }

  @Test
  void missingWrongOrMismatchedTokensAreRefusedWithMinus1002() {
    String s = server.newSystem();
    String other = server.newSystem();
    assertRefused(server.wsUrl(s));
    assertRefused(server.wsUrl(s) + "&token=garbage");
    assertRefused(server.wsUrl(s) + "&token=" + TestServer.TOKENS.issue("client", other, "u", Duration.ofHours(1)));
    assertRefused(server.wsUrl(s) + "&token=" + TestServer.TOKENS.issue("client", null, "u", Duration.ofHours(1)));
    assertRefused(server.wsUrl(s) + "&token=" + TestServer.TOKENS.issue("client", s, "u", Duration.ofSeconds(-5)));
  }

  @Test
  void validTokenConnectsAndItsUserIdBecomesTheClientsUserId() {
    String s = server.newSystem();
    String token = TestServer.TOKENS.issue("client", s, "alice", Duration.ofHours(1));
    try (WsClient c = WsClient.open(server.wsUrl(s) + "&token=" + token, Map.of())) {
      c.awaitWelcome();
      server.api.bind(s, c.clientId, "g").ok();
      JsonNode joined = c.nextJson();
      assertEquals(1001, joined.get("code").asInt());
      assertEquals("alice", joined.get("sendUserId").asText());
    }
  }

  @Test
  void originsOutsideTheAllowListAreRefused() throws Exception {
    String s = server.newSystem();
    String token = TestServer.TOKENS.issue("client", s, null, Duration.ofHours(1));
    try (WsClient ok = WsClient.open(server.wsUrl(s) + "&token=" + token, Map.of("Origin", "https://app.example"))) {
      ok.awaitWelcome();
    }
    String response = RawWsClient.rawExchange(server.port(), "GET /ws?systemId=" + s + "&token=" + token
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\nConnection: Upgrade\r\n"
        + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Connection: close\r\n\r\n");
    assertTrue(response.startsWith("HTTP/1.1 403 "), response);
    assertTrue(response.endsWith("{\"code\":-1,\"msg\":\"origin not allowed\",\"data\":[]}"), response);
  }

  @Test
  void tokenIssuedForTheSystemStillNeedsARegisteredSystem() {
    String unknown = "unregistered-" + System.nanoTime();
    WsClient c = WsClient.open(server.wsUrl(unknown) + "&token="
        + TestServer.TOKENS.issue(Tokens.CLIENT, unknown, null, Duration.ofHours(1)), Map.of());
    assertEquals("{\"messageId\":\"\",\"sendUserId\":\"\",\"code\":-1001,\"msg\":\"系统ID无效\",\"data\":[]}\n", c.next());
    assertEquals(1008, c.awaitClose().code());
  }
}

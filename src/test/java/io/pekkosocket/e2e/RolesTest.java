package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.MainTokens;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import io.pekkosocket.auth.Tokens;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 9 item 1: each role is good for one door. {@code admin} and {@code system} tokens call the API and are refused
 * on {@code /ws}; a {@code client} token connects to {@code /ws} of its own system and is refused (403) on every
 * {@code /api} operation.
 */
class RolesTest {
  static TestServer server;
  static final String FORBIDDEN = "{\"code\":-1,\"msg\":\"forbidden\",\"data\":[]}";
  static final List<String> OPERATIONS = List.of("register", "rotate_system_key", "send_to_client",
      "send_to_clients", "send_to_group", "send_to_system", "bind_to_group", "unbind_from_group", "get_online_list",
      "get_all_groups", "close_client", "batch", "no_such_operation");

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("socket.ws.require-token", "on"));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }


  @Test
  void aClientTokenIsRefusedWith403OnEveryApiOperation() {
    String s = server.newSystem();
    Api asClient = server.api.withToken(TestServer.TOKENS.issue(Tokens.CLIENT, s, "alice", Duration.ofHours(1)));
    try (WsClient c = WsClient.open(server.wsUrl(s) + "&token="
        + TestServer.TOKENS.issue(Tokens.CLIENT, s, "bob", Duration.ofHours(1)), Map.of())) {
      c.awaitWelcome();
      String body = "{\"systemId\":" + Api.q(s) + ",\"clientId\":" + Api.q(c.clientId) + ",\"clientIds\":["
          + Api.q(c.clientId) + "],\"groupName\":\"g\",\"data\":\"x\",\"commands\":[{\"op\":\"close_client\","
          + "\"clientId\":" + Api.q(c.clientId) + "}]}";
      for (String op : OPERATIONS) {
        for (String header : java.util.Arrays.asList(s, null)) {
          Api.Response r = asClient.post(op, header, body);
          assertEquals(403, r.status(), op + " with SystemId " + header);
          assertEquals(FORBIDDEN, r.body(), op);
        }
      }
      // nothing of it reached the client: the next frame it gets is the backend's
      server.api.post("send_to_client", s, "{\"clientId\":" + Api.q(c.clientId) + ",\"data\":\"from backend\"}");
      assertEquals("from backend", c.nextJson().get("data").asText());
      assertFalse(c.isClosed());
    }
  }

  @Test
  void systemAndAdminTokensAreRefusedOnWsLikeABadToken() {
    String s = server.newSystem();
    Refusals.assertUnauthorizedOnWs(server.wsUrl(s) + "&token=" + TestServer.TOKENS.issue(Tokens.SYSTEM, s, "u", Duration.ofHours(1)));
    Refusals.assertUnauthorizedOnWs(server.wsUrl(s) + "&token=" + TestServer.ADMIN);
    Refusals.assertUnauthorizedOnWs(server.wsUrl(s) + "&token=" + TestServer.TOKENS.issue(Tokens.ADMIN, s, "u", Duration.ofHours(1)));
    Refusals.assertUnauthorizedOnWs(server.wsUrl(s) + "&token=" + TestServer.TOKENS.issue("guest", s, "u", Duration.ofHours(1)));
    Refusals.assertUnauthorizedOnWs(server.wsUrl(s) + "&token=" + TestServer.TOKENS.issue(null, s, "u", Duration.ofHours(1)));
  }

  @Test
  void withoutRequiredTokensAnApiCredentialInTheUrlIsStillRefused() throws Exception {
    try (TestServer open = TestServer.start()) { // socket.ws.require-token = off
      String s = open.newSystem();
      for (String token : List.of(TestServer.TOKENS.issue(Tokens.SYSTEM, s, "u", Duration.ofHours(1)),
          TestServer.ADMIN)) {
        Refusals.assertUnauthorizedOnWs(open.wsUrl(s) + "&token=" + token);
      }
      // no token, a client token, or something that is no token at all: connected as before
      for (String query : List.of("", "&token=" + TestServer.TOKENS.issue(Tokens.CLIENT, s, "u", Duration.ofHours(1)),
          "&token=not-a-jwt")) {
        try (WsClient c = WsClient.open(open.wsUrl(s) + query, Map.of())) {
          c.awaitWelcome();
        }
      }
    }
  }

  @Test
  void aClientTokenConnectsOnlyToItsOwnSystem() {
    String s = server.newSystem();
    String other = server.newSystem();
    String token = TestServer.TOKENS.issue(Tokens.CLIENT, s, "carol", Duration.ofHours(1));
    try (WsClient c = WsClient.open(server.wsUrl(s) + "&token=" + token, Map.of())) {
      c.awaitWelcome();
    }
    Refusals.assertUnauthorizedOnWs(server.wsUrl(other) + "&token=" + token);
  }

  @Test
  void systemAndAdminTokensStillCallTheApi() {
    String s = server.newSystem();
    Api asSystem = server.api.withToken(TestServer.TOKENS.issue(Tokens.SYSTEM, s, null, Duration.ofHours(1)));
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{}}", asSystem.post("get_all_groups", s, "{}").body());
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{}}", server.api.post("get_all_groups", s, "{}").body());
  }

  /** The README's walkthrough, through the same CLI code: the browser's token connects and can do nothing else. */
  @Test
  void theReadmesClientTokenConnectsAndCannotCloseClients() {
    String s = server.newSystem();
    MainTokens.Printed printed = MainTokens.print(server.server.settings(), Map.of(),
        "token", "--role", "client", "--system-id", s, "--user-id", "alice", "--ttl", "1h");
    assertEquals(0, printed.status(), printed.err());
    String token = printed.out().trim();
    try (WsClient browser = WsClient.open(server.wsUrl(s) + "&token=" + token, Map.of());
         WsClient victim = WsClient.open(server.wsUrl(s) + "&token=" + token, Map.of())) {
      browser.awaitWelcome();
      victim.awaitWelcome();
      Api.Response r = server.api.withToken(token).post("close_client", s,
          "{\"clientId\":" + Api.q(victim.clientId) + "}");
      assertEquals(403, r.status());
      assertEquals(FORBIDDEN, r.body());
      server.api.post("send_to_client", s, "{\"clientId\":" + Api.q(victim.clientId) + ",\"data\":\"still here\"}");
      assertEquals("still here", victim.nextJson().get("data").asText());
    }
    MainTokens.Printed backend = MainTokens.print(server.server.settings(), Map.of(),
        "token", "--role", "system", "--system-id", s, "--ttl", "30d");
    assertEquals(0, backend.status(), backend.err());
    assertEquals(0, server.api.withToken(backend.out().trim()).post("get_all_groups", s, "{}").code());
  }

  @Test
  void theCliRefusesUnknownRolesAndClientTokensWithoutASystem() {
    assertEquals(2, MainTokens.print(server.server.settings(), Map.of(), "token", "--role", "guest").status());
    assertEquals(2, MainTokens.print(server.server.settings(), Map.of(), "token", "--role", "client").status());
    MainTokens.Printed admin = MainTokens.print(server.server.settings(), Map.of(), "token", "--role", "admin");
    assertEquals(0, admin.status(), admin.err());
    assertEquals(0, server.api.withToken(admin.out().trim()).post("register", null,
        "{\"systemId\":\"cli-" + System.nanoTime() + "\"}").code());
  }
}

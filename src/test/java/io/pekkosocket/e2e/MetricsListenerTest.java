package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 9 item 5 (audit L9): /metrics on a port of its own and behind a token; health on every listener. */
class MetricsListenerTest {
  private static final String UNAUTHORIZED = "{\"code\":-1,\"msg\":\"unauthorized\",\"data\":[]}";
  private static final String NOT_FOUND = "{\"code\":-1,\"msg\":\"not found\",\"data\":[]}";

  private static Api.Response get(Api api, String path, String authorization) {
    HttpRequest.Builder b = HttpRequest.newBuilder(api.uri(path)).timeout(Duration.ofSeconds(20)).GET();
    if (authorization != null) b.header("Authorization", authorization);
    return api.send(b.build());
  }

  private static void healthy(Api api) {
    assertEquals(200, api.get("/health/live").status());
    Api.Response ready = api.get("/health/ready");
    assertEquals(200, ready.status());
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":\"ready\"}", ready.body());
  }

  @Test
  void aSeparatePortWithATokenServesMetricsOnlyThereAndOnlyWithTheToken() throws Exception {
    String token = "scrape-" + java.util.UUID.randomUUID();
    try (TestServer s = TestServer.start(Map.of("socket.metrics.port", 0, "socket.metrics.token", token))) {
      int metricsPort = s.server.metricsPort().orElseThrow();
      assertNotEquals(s.port(), metricsPort);
      Api metrics = new Api(metricsPort, null);

      Api.Response none = get(metrics, "/metrics", null);
      assertEquals(401, none.status());
      assertEquals(UNAUTHORIZED, none.body());
      Api.Response wrong = get(metrics, "/metrics", "Bearer " + token + "x");
      assertEquals(401, wrong.status());
      assertEquals(UNAUTHORIZED, wrong.body());
      assertEquals(401, get(metrics, "/metrics", token).status(), "the token alone, without Bearer");

      Api.Response ok = get(metrics, "/metrics", "Bearer " + token);
      assertEquals(200, ok.status());
      assertTrue(ok.body().contains("socket_connections_open"), ok.body());

      // the API port: no /metrics (with or without the token), the API as before
      Api.Response onApi = get(s.api, "/metrics", "Bearer " + token);
      assertEquals(404, onApi.status());
      assertEquals(NOT_FOUND, onApi.body());
      s.newSystem();
      // the metrics port: no API
      assertEquals(404, metrics.post("register", null, "{\"systemId\":\"x\"}").status());

      healthy(s.api);
      healthy(metrics);
    }
  }

  @Test
  void aSeparatePortWithoutATokenServesMetricsToAnyone() throws Exception {
    try (TestServer s = TestServer.start(Map.of("socket.metrics.port", 0))) {
      Api metrics = new Api(s.server.metricsPort().orElseThrow(), null);
      Api.Response ok = get(metrics, "/metrics", null);
      assertEquals(200, ok.status());
      assertTrue(ok.body().contains("socket_connections_open"));
      assertEquals(404, get(s.api, "/metrics", null).status());
      healthy(s.api);
      healthy(metrics);
    }
  }

  @Test
  void aTokenProtectsMetricsOnTheApiPortWhenNoPortOfItsOwnIsSet() throws Exception {
    String token = "scrape-" + java.util.UUID.randomUUID();
    try (TestServer s = TestServer.start(Map.of("socket.metrics.token", token))) {
      assertTrue(s.server.metricsPort().isEmpty());
      Api.Response none = get(s.api, "/metrics", null);
      assertEquals(401, none.status());
      assertEquals(UNAUTHORIZED, none.body());
      assertEquals(401, get(s.api, "/metrics", "Bearer " + TestServer.ADMIN).status(), "an API token is no scrape token");
      assertEquals(200, get(s.api, "/metrics", "bearer " + token).status());
      healthy(s.api);
    }
  }
}

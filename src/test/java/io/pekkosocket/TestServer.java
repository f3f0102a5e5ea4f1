package io.pekkosocket;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** A real server on a free port of 127.0.0.1, with optional setting overrides. */
public final class TestServer implements AutoCloseable {
  public final Server server;
  public final Api api;

  private TestServer(Server server) {
    this.server = server;
    this.api = new Api(server.port());
  }

  public static TestServer start() {
    return start(Map.of());
  }

  public static TestServer start(Map<String, Object> overrides) {
    Config config = ConfigFactory.parseMap(Map.of("socket.http.host", "127.0.0.1", "socket.http.port", 0))
        .withFallback(ConfigFactory.parseMap(overrides))
        .withFallback(ConfigFactory.parseResources("socket-defaults.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
    try {
      return new TestServer(Server.start(config).toCompletableFuture().get(30, TimeUnit.SECONDS));
    } catch (Exception e) {
      throw new IllegalStateException("test server did not start", e);
    }
  }

  public int port() {
    return server.port();
  }

  public String wsUrl(String systemId) {
    return "ws://127.0.0.1:" + port() + "/ws?systemId=" + java.net.URLEncoder.encode(systemId,
        java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Registers a fresh system and returns its id. */
  public String newSystem() {
    String id = "sys-" + UUID.randomUUID();
    Api.Response r = api.post("register", null, "{\"systemId\":\"" + id + "\"}");
    if (r.status() != 200 || !r.body().equals("{\"code\":0,\"msg\":\"success\",\"data\":[]}")) {
      throw new IllegalStateException("register failed: " + r);
    }
    return id;
  }

  public WsClient connect(String systemId) {
    WsClient c = WsClient.open(wsUrl(systemId), Map.of());
    c.awaitWelcome();
    return c;
  }

  @Override
  public void close() throws Exception {
    server.stop(Duration.ofSeconds(30));
  }
}

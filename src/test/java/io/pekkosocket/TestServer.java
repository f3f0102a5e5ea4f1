package io.pekkosocket;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pekkosocket.auth.Tokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** A real server on a free port of 127.0.0.1, with optional setting overrides. */
public final class TestServer implements AutoCloseable {
  public static final String SECRET = "test-secret-0123456789abcdef0123456789abcdef";
  public static final Tokens TOKENS = new Tokens(SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  public static final String ADMIN = TOKENS.issue(Tokens.ADMIN, null, null, Duration.ofHours(1));

  public final Server server;
  public final Api api;
  public final Path dataDir;

  private TestServer(Server server, Path dataDir) {
    this.server = server;
    this.dataDir = dataDir;
    this.api = new Api(server.port(), ADMIN);
  }

  public static TestServer start() {
    return start(Map.of());
  }

  public static TestServer start(Map<String, Object> overrides) {
    return start(overrides, io.pekkosocket.ops.Faults.NONE);
  }

  public static TestServer start(Map<String, Object> overrides, io.pekkosocket.ops.Faults faults) {
    Path dataDir;
    try {
      dataDir = overrides.containsKey("socket.data-dir") ? Path.of((String) overrides.get("socket.data-dir"))
          : Files.createTempDirectory("pekko-socket-test");
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    Config config = ConfigFactory.parseMap(Map.of("socket.http.host", "127.0.0.1", "socket.http.port", 0,
            "socket.data-dir", dataDir.toString()))
        .withFallback(ConfigFactory.parseMap(overrides))
        .withFallback(ConfigFactory.parseMap(Map.of("socket.auth.jwt-secret", SECRET, "socket.log-level", "WARN")))
        .withFallback(ConfigFactory.parseResources("socket-defaults.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
    try {
      return new TestServer(Server.start(config, faults).toCompletableFuture().get(30, TimeUnit.SECONDS), dataDir);
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

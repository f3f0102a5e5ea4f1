package io.pekkosocket;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsTest {
  @Test
  void defaultsMatchTheDocumentedOnes() {
    Settings s = Settings.from(ConfigFactory.parseResources("socket-defaults.conf").resolve());
    assertEquals("0.0.0.0", s.host());
    assertEquals(7800, s.port());
    assertEquals(Duration.ofSeconds(25), s.pingInterval());
    assertEquals(Duration.ofSeconds(60), s.idleTimeout());
    assertEquals(8192, s.maxFrame());
    assertEquals(1024, s.outboundFrames());
    assertEquals(4L * 1024 * 1024, s.outboundBytes());
    assertEquals(1024L * 1024, s.maxBody());
    assertTrue(s.escapeHtml());
    assertTrue(s.trailingNewline());
    assertEquals(Duration.ofSeconds(75), s.httpIdleTimeout());
    assertEquals(200, s.refusedHandshakesPerSecond());
    assertEquals(0, s.handshakesPerAddress());
  }

  @Test
  void environmentVariablesOverrideTheFileAndDefaults() {
    Config env = Settings.fromEnv(Map.of("SOCKET_HTTP_PORT", "9001", "SOCKET_HTTP_HOST", "127.0.0.1",
        "SOCKET_DATA_DIR", "/tmp/x", "SOCKET_WS_MAX_FRAME", "100", "UNRELATED", "1"));
    Config file = ConfigFactory.parseString("socket.http.port = 7000\nsocket.ws.idle-timeout = 90s");
    Settings s = Settings.from(env.withFallback(file)
        .withFallback(ConfigFactory.parseResources("socket-defaults.conf")).resolve());
    assertEquals(9001, s.port());
    assertEquals("127.0.0.1", s.host());
    assertEquals("/tmp/x", s.dataDir().toString());
    assertEquals(100, s.maxFrame());
    assertEquals(Duration.ofSeconds(90), s.idleTimeout());
  }

  @Test
  void loadReadsTheNamedFileAndSystemPropertiesWin() throws Exception {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("socket", ".conf");
    java.nio.file.Files.writeString(file, "socket.http.port = 7444\nsocket.ws.max-frame = 100\n");
    System.setProperty("config.file", file.toString());
    System.setProperty("socket.ws.max-frame", "200");
    try {
      Settings s = Settings.from(Settings.load());
      assertEquals(7444, s.port(), "from the file");
      assertEquals(200, s.maxFrame(), "-D wins over the file");
      assertEquals(Duration.ofSeconds(25), s.pingInterval(), "defaults underneath");
    } finally {
      System.clearProperty("config.file");
      System.clearProperty("socket.ws.max-frame");
      com.typesafe.config.ConfigFactory.invalidateCaches();
    }
  }

  @Test
  void pekkoDefaultsThatBreakWebSocketsAreOverridden() {
    Config c = Server.runtimeConfig(ConfigFactory.parseResources("socket-defaults.conf")
        .withFallback(ConfigFactory.defaultReference()).resolve());
    assertEquals("infinite", c.getString("pekko.http.server.idle-timeout"),
        "off: socket.http.idle-timeout is timed by IdleGuard, without Pekko's timer on every WebSocket");
    assertFalse(c.getBoolean("pekko.http.server.remote-address-attribute"), "off unless a per-address limit is on");
    assertTrue(c.getInt("pekko.http.server.max-connections") >= 20_000);
    assertTrue(c.getInt("pekko.http.server.backlog") >= 1024);
  }

  @Test
  void theHttpIdleTimeoutIsReadAndThePerAddressLimitReachesPekko() {
    Config env = Settings.fromEnv(Map.of("SOCKET_HTTP_IDLE_TIMEOUT", "90s"));
    Config c = Server.runtimeConfig(env.withFallback(ConfigFactory.parseString(
            "socket.limits.handshakes-per-address = 20"))
        .withFallback(ConfigFactory.parseResources("socket-defaults.conf"))
        .withFallback(ConfigFactory.defaultReference()).resolve());
    Settings s = Settings.from(c);
    assertEquals(Duration.ofSeconds(90), s.httpIdleTimeout());
    assertEquals(20, s.handshakesPerAddress());
    assertEquals("infinite", c.getString("pekko.http.server.idle-timeout"), "IdleGuard times it, not Pekko");
    assertTrue(c.getBoolean("pekko.http.server.remote-address-attribute"));
  }

  /** Pekko's request timeout never answers before the API's own deadline; "off" and "infinite" stay as they are. */
  @Test
  void pekkosRequestTimeoutIsRaisedAboveTheApiDeadlineOrLeftOff() {
    for (String none : List.of("off", "infinite")) {
      Config c = Server.runtimeConfig(ConfigFactory.parseString("pekko.http.server.request-timeout = " + none)
          .withFallback(ConfigFactory.parseResources("socket-defaults.conf"))
          .withFallback(ConfigFactory.defaultReference()).resolve());
      assertEquals(none, c.getString("pekko.http.server.request-timeout"));
    }
    Config shortOne = Server.runtimeConfig(ConfigFactory.parseString("pekko.http.server.request-timeout = 2 s")
        .withFallback(ConfigFactory.parseResources("socket-defaults.conf"))
        .withFallback(ConfigFactory.defaultReference()).resolve());
    // ask-timeout 5 s + deadline-grace 1 s, and one more second for the answer to be written
    assertEquals(Duration.ofSeconds(7), shortOne.getDuration("pekko.http.server.request-timeout"));
  }
}

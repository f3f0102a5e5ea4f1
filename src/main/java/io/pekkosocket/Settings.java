package io.pekkosocket;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pekkosocket.ws.ConnectionStage;
import io.pekkosocket.wire.FrameEncoder;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The server's settings, read once from the {@code socket} namespace at startup and passed down explicitly.
 * Defaults live in {@code reference.conf}; the operator's {@code config/application.conf} goes on top, then the
 * environment variables of {@link #ENV}, then {@code -D} system properties.
 */
public record Settings(
    String host,
    int port,
    Path dataDir,
    String nodeId,
    long maxBody,
    Duration askTimeout,
    Duration pingInterval,
    Duration idleTimeout,
    long maxFrame,
    int outboundFrames,
    long outboundBytes,
    Duration closeTimeout,
    boolean escapeHtml,
    boolean trailingNewline,
    boolean membershipNotices,
    int maxGroupsPerClient,
    int maxClientIdsPerSend,
    int maxGroupName,
    int maxUserField,
    int connectionsPerSystem,
    int handshakesPerSecond,
    String jwtSecret,
    boolean requireConnectToken,
    List<String> allowedOrigins,
    List<String> preRegisteredSystems,
    String logLevel,
    Duration drain,
    // ws frames (issue 8)
    int inboundRate,
    int inboundBurst,
    // admission (issue 8)
    int commandsInFlightPerSystem,
    Duration deadlineGrace,
    // edges (issue 8)
    Duration httpIdleTimeout,
    int refusedHandshakesPerSecond,
    int handshakesPerAddress,
    // auth (issue 9)
    Duration authLeeway) {

  /** Environment variables and the keys they set. */
  public static final Map<String, String> ENV = Map.ofEntries(
      Map.entry("SOCKET_HTTP_HOST", "socket.http.host"),
      Map.entry("SOCKET_HTTP_PORT", "socket.http.port"),
      Map.entry("SOCKET_DATA_DIR", "socket.data-dir"),
      Map.entry("SOCKET_NODE_ID", "socket.node-id"),
      Map.entry("SOCKET_WS_PING_INTERVAL", "socket.ws.ping-interval"),
      Map.entry("SOCKET_WS_IDLE_TIMEOUT", "socket.ws.idle-timeout"),
      Map.entry("SOCKET_WS_MAX_FRAME", "socket.ws.max-frame"),
      Map.entry("SOCKET_WS_OUTBOUND_FRAMES", "socket.ws.outbound-buffer.frames"),
      Map.entry("SOCKET_WS_OUTBOUND_BYTES", "socket.ws.outbound-buffer.bytes"),
      Map.entry("SOCKET_WS_REQUIRE_TOKEN", "socket.ws.require-token"),
      Map.entry("SOCKET_WS_INBOUND_RATE", "socket.ws.inbound-rate"),
      Map.entry("SOCKET_WS_INBOUND_BURST", "socket.ws.inbound-burst"),
      Map.entry("SOCKET_JWT_SECRET", "socket.auth.jwt-secret"),
      Map.entry("SOCKET_LOG_LEVEL", "socket.log-level"),
      Map.entry("SOCKET_SHUTDOWN_DRAIN", "socket.shutdown.drain"),
      // edges (issue 8)
      Map.entry("SOCKET_HTTP_IDLE_TIMEOUT", "socket.http.idle-timeout"),
      Map.entry("SOCKET_HANDSHAKES_PER_ADDRESS", "socket.limits.handshakes-per-address"));

  /** The most clock skew socket.auth.leeway may forgive: beyond it a token could be used long before its time. */
  static final Duration MAX_LEEWAY = Duration.ofMinutes(10);

  /** A setting that makes no sense: startup stops (exit status 1) with this message, which names the key. */
  public static final class InvalidSetting extends IllegalArgumentException {
    InvalidSetting(String key, Object value, String rule) {
      super("invalid setting " + key + " = " + value + ": " + rule);
    }
  }

  /** Reads and checks the settings; throws {@link InvalidSetting} naming the first key whose value makes no sense. */
  public static Settings from(Config c) {
    Config s = c.getConfig("socket");
    Settings settings = new Settings(
        s.getString("http.host"),
        s.getInt("http.port"),
        Path.of(s.getString("data-dir")),
        s.getString("node-id"),
        s.getBytes("api.max-body"),
        s.getDuration("api.ask-timeout"),
        s.getDuration("ws.ping-interval"),
        s.getDuration("ws.idle-timeout"),
        s.getBytes("ws.max-frame"),
        s.getInt("ws.outbound-buffer.frames"),
        s.getBytes("ws.outbound-buffer.bytes"),
        s.getDuration("ws.close-timeout"),
        s.getBoolean("ws.escape-html"),
        s.getBoolean("ws.trailing-newline"),
        s.getBoolean("groups.membership-notices"),
        s.getInt("limits.groups-per-client"),
        s.getInt("limits.client-ids-per-send"),
        s.getInt("limits.group-name-length"),
        s.getInt("limits.user-field-length"),
        s.getInt("limits.connections-per-system"),
        s.getInt("limits.handshakes-per-second"),
        s.getString("auth.jwt-secret"),
        s.getBoolean("ws.require-token"),
        List.copyOf(s.getStringList("ws.allowed-origins")),
        List.copyOf(s.getStringList("systems")),
        s.getString("log-level"),
        s.getDuration("shutdown.drain"),
        s.getInt("ws.inbound-rate"),
        s.getInt("ws.inbound-burst"),
        // admission (issue 8)
        s.getInt("limits.commands-in-flight-per-system"),
        s.getDuration("api.deadline-grace"),
        // edges (issue 8)
        s.getDuration("http.idle-timeout"),
        s.getInt("limits.refused-handshakes-per-second"),
        s.getInt("limits.handshakes-per-address"),
        // auth (issue 9)
        s.getDuration("auth.leeway"));
    settings.check();
    return settings;
  }

  /**
   * The full configuration: {@code -D} properties over environment variables over the operator's file
   * ({@code -Dconfig.file}, else {@code config/application.conf} when it exists) over built-in defaults.
   */
  public static Config load() {
    ConfigFactory.invalidateCaches();
    Config file;
    String named = System.getProperty("config.file");
    File local = new File("config/application.conf");
    if (named != null) file = ConfigFactory.parseFile(new File(named));
    else if (local.isFile()) file = ConfigFactory.parseFile(local);
    else file = ConfigFactory.empty();
    return ConfigFactory.systemProperties()
        .withFallback(fromEnv(System.getenv()))
        .withFallback(file)
        .withFallback(ConfigFactory.parseResources("socket-defaults.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  static Config fromEnv(Map<String, String> env) {
    Map<String, Object> values = new HashMap<>();
    ENV.forEach((var, key) -> {
      String v = env.get(var);
      if (v != null && !v.isBlank()) values.put(key, v);
    });
    return ConfigFactory.parseMap(values, "environment variables");
  }

  public FrameEncoder encoder() {
    return new FrameEncoder(escapeHtml, trailingNewline);
  }

  public ConnectionStage.Limits connectionLimits() {
    return new ConnectionStage.Limits(pingInterval, idleTimeout, maxFrame, outboundFrames, outboundBytes,
        closeTimeout, inboundRate, inboundBurst);
  }

  private void check() {
    atLeast("socket.http.port", port, 0);
    if (port > 65535) throw new InvalidSetting("socket.http.port", port, "must be a TCP port (0-65535)");
    if (!nodeId.matches("[A-Za-z0-9]+")) {
      throw new InvalidSetting("socket.node-id", "\"" + nodeId + "\"", "must be letters and digits");
    }
    atLeast("socket.api.max-body", maxBody, 1);
    positive("socket.api.ask-timeout", askTimeout);
    positive("socket.ws.ping-interval", pingInterval);
    above("socket.ws.idle-timeout", idleTimeout, "socket.ws.ping-interval", pingInterval,
        "a healthy connection must get a ping before it is declared dead");
    above("socket.http.idle-timeout", httpIdleTimeout, "socket.ws.ping-interval", pingInterval,
        "the pings are what keep a WebSocket from the HTTP idle timeout");
    atLeast("socket.ws.max-frame", maxFrame, 1);
    atLeast("socket.ws.outbound-buffer.frames", outboundFrames, 1);
    atLeast("socket.ws.outbound-buffer.bytes", outboundBytes, 1);
    positive("socket.ws.close-timeout", closeTimeout);
    atLeast("socket.ws.inbound-rate", inboundRate, 1);
    atLeast("socket.ws.inbound-burst", inboundBurst, 1);
    atLeast("socket.limits.commands-in-flight-per-system", commandsInFlightPerSystem, 0);
    positive("socket.api.deadline-grace", deadlineGrace);
    atLeast("socket.limits.groups-per-client", maxGroupsPerClient, 1);
    atLeast("socket.limits.client-ids-per-send", maxClientIdsPerSend, 1);
    atLeast("socket.limits.group-name-length", maxGroupName, 1);
    atLeast("socket.limits.user-field-length", maxUserField, 0);
    atLeast("socket.limits.connections-per-system", connectionsPerSystem, 0);
    atLeast("socket.limits.handshakes-per-second", handshakesPerSecond, 1);
    atLeast("socket.limits.refused-handshakes-per-second", refusedHandshakesPerSecond, 1);
    atLeast("socket.limits.handshakes-per-address", handshakesPerAddress, 0);
    if (authLeeway.isNegative() || authLeeway.compareTo(MAX_LEEWAY) > 0 || authLeeway.toMillis() % 1000 != 0) {
      throw new InvalidSetting("socket.auth.leeway", human(authLeeway),
          "must be whole seconds from 0 to " + human(MAX_LEEWAY));
    }
    if (drain.isNegative()) throw new InvalidSetting("socket.shutdown.drain", human(drain), "must not be negative");
    for (String id : preRegisteredSystems) {
      String problem = io.pekkosocket.registry.SystemIds.problem(id);
      if (problem != null) throw new InvalidSetting("socket.systems", "[\"" + id + "\"]", problem);
    }
  }

  private static void atLeast(String key, long value, long min) {
    if (value < min) throw new InvalidSetting(key, value, "must be at least " + min);
  }

  private static void positive(String key, Duration value) {
    if (value.isNegative() || value.isZero()) throw new InvalidSetting(key, human(value), "must be above zero");
  }

  private static void above(String key, Duration value, String otherKey, Duration other, String why) {
    if (value.compareTo(other) <= 0) {
      throw new InvalidSetting(key, human(value), "must be above " + otherKey + " (" + human(other) + "): " + why);
    }
  }

  private static String human(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}

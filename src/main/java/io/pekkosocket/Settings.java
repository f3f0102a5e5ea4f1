package io.pekkosocket;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The server's settings, read once from the {@code socket} namespace at startup and passed down explicitly.
 * Defaults live in {@code socket-defaults.conf}; the operator's {@code config/application.conf} goes on top, then the
 * environment variables of {@link #ENV}, then {@code -D} system properties. Which keys exist, and the environment
 * variable of each, is {@link ConfigKeys}.
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
    // operator surface (issue 9)
    java.util.OptionalInt metricsPort,
    String metricsToken,
    // auth (issue 9)
    Duration authLeeway,
    // admission, bytes (issue 8)
    long bytesInFlightPerSystem,
    // session resumption (issue 11)
    Duration resumeWindow,
    int resumeBuffer,
    int detachedSessions,
    // batch (issue 13)
    int maxBatch,
    // performance (issue 13): the common API call skips the routing DSL (ApiRoutes.direct)
    boolean directApi,
    // cluster mode (issue 12)
    Cluster cluster) {

  /**
   * Cluster mode: whether it is on, this node's cluster address, the seed nodes (normalised to full
   * {@code pekko://pekko-socket@host:port} addresses) and the deadline of answers gathered from other nodes.
   */
  public record Cluster(boolean enabled, String host, int port, List<String> seedNodes, Duration gatherTimeout) {
    /** The actor system's name: part of every node's address, so the same on every node. */
    public static final String SYSTEM_NAME = "pekko-socket";

    /** The cluster role that carries a node's tag ({@code socket.node-id}). */
    public static String role(String nodeId) {
      return "socket-node-" + nodeId;
    }

    static Cluster from(Config s) {
      List<String> seeds = new java.util.ArrayList<>();
      for (String seed : s.getStringList("cluster.seed-nodes")) {
        String t = seed.strip();
        if (t.isEmpty()) continue;
        if (t.startsWith("pekko://")) {
          if (!t.startsWith("pekko://" + SYSTEM_NAME + "@")) {
            throw new InvalidSetting("socket.cluster.seed-nodes", "[\"" + t + "\"]",
                "a full address must name the actor system " + SYSTEM_NAME + " (pekko://" + SYSTEM_NAME + "@host:port)");
          }
          seeds.add(t);
        } else if (t.matches("[A-Za-z0-9.\\-]+:[0-9]{1,5}") || t.matches("\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5}")) {
          seeds.add("pekko://" + SYSTEM_NAME + "@" + t);
        } else {
          throw new InvalidSetting("socket.cluster.seed-nodes", "[\"" + t + "\"]",
              "each seed must be host:port (the seed's socket.cluster.port) or pekko://" + SYSTEM_NAME + "@host:port");
        }
      }
      return new Cluster(s.getBoolean("cluster.enabled"), s.getString("cluster.host"), s.getInt("cluster.port"),
          List.copyOf(seeds), s.getDuration("cluster.gather-timeout"));
    }
  }

  /**
   * Environment variables and the keys they set: every key's name by the rule ({@link ConfigKeys#envName}), and the
   * names shipped before the rule ({@link ConfigKeys#ALIASES}).
   */
  public static final Map<String, String> ENV = ConfigKeys.ENV;

  /** The most clock skew socket.auth.leeway may forgive: beyond it a token could be used long before its time. */
  static final Duration MAX_LEEWAY = Duration.ofMinutes(10);

  /** A setting that makes no sense: startup stops (exit status 1) with this message, which names the key. */
  public static final class InvalidSetting extends IllegalArgumentException {
    InvalidSetting(String key, Object value, String rule) {
      super("invalid setting " + key + " = " + value + ": " + rule);
    }

    InvalidSetting(String message) {
      super(message);
    }
  }

  /** Reads and checks the settings; throws {@link InvalidSetting} naming the first key whose value makes no sense. */
  /** Never prints the secrets (socket.auth.jwt-secret, socket.metrics.token); {@code check-config} shows the rest. */
  @Override
  public String toString() {
    return "Settings[" + host + ":" + port + ", data-dir " + dataDir + ", node " + nodeId + "; secrets not shown]";
  }

  public static Settings from(Config c) {
    ConfigKeys.refuseUnknown(c);
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
        // operator surface (issue 9)
        s.hasPath("metrics.port") ? java.util.OptionalInt.of(s.getInt("metrics.port")) : java.util.OptionalInt.empty(),
        s.getString("metrics.token"),
        // auth (issue 9)
        s.getDuration("auth.leeway"),
        s.getBytes("limits.bytes-in-flight-per-system"),
        // session resumption (issue 11)
        s.getDuration("ws.resume-window"),
        s.getInt("ws.resume-buffer"),
        s.getInt("limits.detached-sessions"),
        s.getInt("api.max-batch"),
        s.getBoolean("api.direct-path"),
        Cluster.from(s));
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
    if (named != null) {
      // a named file that does not exist stops startup instead of being silently ignored
      file = ConfigFactory.parseFile(new File(named), com.typesafe.config.ConfigParseOptions.defaults().setAllowMissing(false));
    }
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
    return ConfigKeys.fromEnv(env);
  }



  private void check() {
    atLeast("socket.http.port", port, 0);
    if (port > 65535) throw new InvalidSetting("socket.http.port", port, "must be a TCP port (0-65535)");
    if (!nodeId.matches("[A-Za-z0-9]{1,32}")) {
      throw new InvalidSetting("socket.node-id", "\"" + nodeId + "\"", "must be 1 to 32 letters and digits");
    }
    if (cluster.port() < 0 || cluster.port() > 65535) {
      throw new InvalidSetting("socket.cluster.port", cluster.port(), "must be a TCP port (0-65535)");
    }
    positive("socket.cluster.gather-timeout", cluster.gatherTimeout());
    if (cluster.enabled() && cluster.gatherTimeout().compareTo(askTimeout) >= 0) {
      throw new InvalidSetting("socket.cluster.gather-timeout", human(cluster.gatherTimeout()),
          "must be below socket.api.ask-timeout (" + human(askTimeout) + "): a gathered answer must come before the "
          + "call's deadline");
    }
    if (cluster.enabled() && cluster.host().isBlank()) {
      throw new InvalidSetting("socket.cluster.host", "\"\"", "must be this node's address for the other nodes");
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
    positive("socket.ws.resume-window", resumeWindow);
    atLeast("socket.ws.resume-buffer", resumeBuffer, 1);
    atLeast("socket.limits.detached-sessions", detachedSessions, 0);
    atLeast("socket.api.max-batch", maxBatch, 1);
    atLeast("socket.ws.inbound-rate", inboundRate, 1);
    atLeast("socket.ws.inbound-burst", inboundBurst, 1);
    atLeast("socket.limits.commands-in-flight-per-system", commandsInFlightPerSystem, 0);
    if (bytesInFlightPerSystem != 0 && bytesInFlightPerSystem < maxBody) {
      throw new InvalidSetting("socket.limits.bytes-in-flight-per-system", bytesInFlightPerSystem,
          "must be 0 (unlimited) or at least socket.api.max-body (" + maxBody + "), or a largest request never fits");
    }
    positive("socket.api.deadline-grace", deadlineGrace);
    atLeast("socket.limits.groups-per-client", maxGroupsPerClient, 1);
    atLeast("socket.limits.client-ids-per-send", maxClientIdsPerSend, 1);
    atLeast("socket.limits.group-name-length", maxGroupName, 1);
    atLeast("socket.limits.user-field-length", maxUserField, 0);
    atLeast("socket.limits.connections-per-system", connectionsPerSystem, 0);
    atLeast("socket.limits.handshakes-per-second", handshakesPerSecond, 1);
    atLeast("socket.limits.refused-handshakes-per-second", refusedHandshakesPerSecond, 1);
    atLeast("socket.limits.handshakes-per-address", handshakesPerAddress, 0);
    if (metricsPort.isPresent()) {
      atLeast("socket.metrics.port", metricsPort.getAsInt(), 0);
      if (metricsPort.getAsInt() > 65535) {
        throw new InvalidSetting("socket.metrics.port", metricsPort.getAsInt(), "must be a TCP port (0-65535)");
      }
      if (metricsPort.getAsInt() != 0 && metricsPort.getAsInt() == port) {
        throw new InvalidSetting("socket.metrics.port", port, "must differ from socket.http.port (leave it unset to "
            + "serve /metrics on the API port)");
      }
    }
    if (!metricsToken.equals(metricsToken.strip())) {
      throw new InvalidSetting("socket.metrics.token", "<masked>", "must not start or end with whitespace");
    }
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

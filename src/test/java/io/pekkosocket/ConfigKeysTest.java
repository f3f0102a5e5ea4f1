package io.pekkosocket;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Issue 9, item 6: every key by one env rule, the shipped names as aliases, lists, unknown keys, check-config. */
class ConfigKeysTest {
  private static final Config DEFAULTS = ConfigFactory.parseResources("socket-defaults.conf")
      .withFallback(ConfigFactory.defaultReference()).resolve();

  private static Settings withEnv(Map<String, String> env) {
    return Settings.from(Settings.fromEnv(env).withFallback(DEFAULTS).resolve());
  }

  private static ConfigValue valueAt(Config c, String key) {
    ConfigValue v = c.root();
    for (String segment : com.typesafe.config.ConfigUtil.splitPath(key)) {
      v = ((com.typesafe.config.ConfigObject) v).get(segment);
      if (v == null) return null;
    }
    return v;
  }

  @Test
  void everyKeyOfTheDefaultsIsSetByTheEnvironmentVariableTheRuleNames() {
    assertTrue(ConfigKeys.KEYS.size() >= 35, "the walk found the keys: " + ConfigKeys.KEYS);
    for (String key : ConfigKeys.KEYS) {
      String name = "SOCKET_" + key.substring("socket.".length()).toUpperCase(java.util.Locale.ROOT)
          .replace('.', '_').replace('-', '_');
      assertEquals(key, ConfigKeys.ENV.get(name), "the rule's name of " + key);
      boolean list = ConfigKeys.LIST_KEYS.contains(key);
      Config env = Settings.fromEnv(Map.of(name, list ? "a,b" : "value-of-" + name));
      ConfigValue v = valueAt(env, key);
      assertNotNull(v, name + " sets nothing");
      assertEquals(list ? List.of("a", "b") : "value-of-" + name, v.unwrapped(), name + " sets " + key);
    }
  }

  @Test
  void theKeysAreWalkedFromTheDefaultsAndDispatcherBlocksAreNotSettings() {
    assertTrue(ConfigKeys.KEYS.contains("socket.ws.outbound-buffer.frames"));
    assertTrue(ConfigKeys.KEYS.contains("socket.metrics.port"), "a null default is a key too");
    assertTrue(ConfigKeys.KEYS.stream().noneMatch(k -> k.startsWith("socket.blocking-dispatcher")));
    assertEquals(Set.of("socket.systems", "socket.ws.allowed-origins", "socket.cluster.seed-nodes"),
        ConfigKeys.LIST_KEYS);
  }

  /** Every name of today's Settings.ENV (before issue 9) still sets the same key. */
  @Test
  void everyNameShippedBeforeTheRuleStillSetsItsKey() {
    Map<String, String> shipped = Map.ofEntries(
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
        Map.entry("SOCKET_HTTP_IDLE_TIMEOUT", "socket.http.idle-timeout"),
        Map.entry("SOCKET_HANDSHAKES_PER_ADDRESS", "socket.limits.handshakes-per-address"));
    shipped.forEach((name, key) -> assertEquals(key, ConfigKeys.ENV.get(name), name));
  }

  @Test
  void theAliasesReachTheSettings() {
    Settings s = withEnv(Map.of("SOCKET_JWT_SECRET", "s3cret-0123456789abcdef0123456789",
        "SOCKET_WS_OUTBOUND_FRAMES", "7", "SOCKET_WS_OUTBOUND_BYTES", "1000", "SOCKET_HANDSHAKES_PER_ADDRESS", "5"));
    assertEquals("s3cret-0123456789abcdef0123456789", s.jwtSecret());
    assertEquals(7, s.outboundFrames());
    assertEquals(1000, s.outboundBytes());
    assertEquals(5, s.handshakesPerAddress());
    Settings rule = withEnv(Map.of("SOCKET_WS_OUTBOUND_BUFFER_FRAMES", "9", "SOCKET_LIMITS_HANDSHAKES_PER_ADDRESS", "3"));
    assertEquals(9, rule.outboundFrames());
    assertEquals(3, rule.handshakesPerAddress());
  }

  @Test
  void anAliasAndItsRuleNameMustAgree() {
    assertEquals(8, withEnv(Map.of("SOCKET_WS_OUTBOUND_FRAMES", "8", "SOCKET_WS_OUTBOUND_BUFFER_FRAMES", "8"))
        .outboundFrames());
    Settings.InvalidSetting e = assertThrows(Settings.InvalidSetting.class, () -> Settings.fromEnv(
        Map.of("SOCKET_JWT_SECRET", "one-secret", "SOCKET_AUTH_JWT_SECRET", "another-secret")));
    assertTrue(e.getMessage().contains("SOCKET_JWT_SECRET") && e.getMessage().contains("SOCKET_AUTH_JWT_SECRET"),
        e.getMessage());
    assertFalse(e.getMessage().contains("one-secret") || e.getMessage().contains("another-secret"), e.getMessage());
  }

  @Test
  void aListKeyTakesACommaSeparatedValue() {
    Settings s = withEnv(Map.of("SOCKET_SYSTEMS", "alpha, beta,,gamma ",
        "SOCKET_WS_ALLOWED_ORIGINS", "https://a.example.com,https://b.example.com"));
    assertEquals(List.of("alpha", "beta", "gamma"), s.preRegisteredSystems());
    assertEquals(List.of("https://a.example.com", "https://b.example.com"), s.allowedOrigins());
  }

  @Test
  void anUnknownKeyUnderSocketIsRefusedNamingIt() {
    for (String typo : List.of("socket.ws.idel-timeout", "socket.metrics.tokn", "socket.limit.groups-per-client",
        "socket.http.port.x")) {
      Config file = ConfigFactory.parseString(typo + " = 30");
      Settings.InvalidSetting e = assertThrows(Settings.InvalidSetting.class,
          () -> Settings.from(file.withFallback(DEFAULTS).resolve()), typo);
      assertTrue(e.getMessage().contains(typo), e.getMessage());
    }
    // a dispatcher block is Pekko's to read: its keys are not refused
    assertDoesNotThrow(() -> Settings.from(ConfigFactory.parseString("socket.blocking-dispatcher.throughput = 2")
        .withFallback(DEFAULTS).resolve()));
    // but a misspelled one is a typo like any other, and so is a quoted name with a dot (it flattens to a real
    // key's path, yet Settings would never read it)
    for (String typo : List.of("socket.bloking-dispatcher.throughput = 2", "socket { \"ws.idle-timeout\" = 999 s }")) {
      assertThrows(Settings.InvalidSetting.class,
          () -> Settings.from(ConfigFactory.parseString(typo).withFallback(DEFAULTS).resolve()), typo);
    }
    // keys outside socket are not ours
    assertDoesNotThrow(() -> Settings.from(ConfigFactory.parseString("other.thing = 2")
        .withFallback(DEFAULTS).resolve()));
  }

  @Test
  void unknownSocketEnvironmentVariablesAreReportedOthersIgnored() {
    assertEquals(List.of("SOCKET_WS_IDEL_TIMEOUT"), ConfigKeys.unknownEnv(Map.of("SOCKET_WS_IDEL_TIMEOUT", "1",
        "SOCKET_HTTP_PORT", "1", "SOCKET_JWT_SECRET", "x", "PATH", "/bin", "WEBSOCKET_X", "1")));
  }

  @Test
  void theMetricsPortIsChecked() {
    Settings s = Settings.from(DEFAULTS);
    assertTrue(s.metricsPort().isEmpty(), "unset by default: /metrics on the API port");
    assertEquals("", s.metricsToken());
    assertEquals(9100, withEnv(Map.of("SOCKET_METRICS_PORT", "9100")).metricsPort().getAsInt());
    for (String bad : List.of("7800", "70000", "-1")) {
      Settings.InvalidSetting e = assertThrows(Settings.InvalidSetting.class,
          () -> withEnv(Map.of("SOCKET_METRICS_PORT", bad)), bad);
      assertTrue(e.getMessage().contains("socket.metrics.port"), e.getMessage());
    }
  }

  /** config/application.conf shows every key with its default: uncommented, it is the defaults. */
  @Test
  void theOperatorsFileListsEveryKeyWithItsDefault() throws Exception {
    String text = Files.readString(Path.of("config/application.conf"));
    Matcher m = Pattern.compile("(?m)^(\\s*)# ([a-z][a-z-]*) = (.*)$").matcher(text);
    String uncommented = m.replaceAll(r -> Matcher.quoteReplacement(r.group(1) + r.group(2) + " = " + r.group(3)));
    Config file = ConfigFactory.parseString(uncommented).resolve();
    Set<String> listed = new TreeSet<>();
    for (String key : ConfigKeys.KEYS) {
      if (file.hasPathOrNull(key)) listed.add(key);
    }
    Set<String> missing = new TreeSet<>(ConfigKeys.KEYS);
    missing.removeAll(listed);
    assertEquals(Set.of(), missing, "keys missing from config/application.conf");
    ConfigKeys.refuseUnknown(file); // and nothing there that is not a key
    Config defaults = ConfigFactory.parseResources("socket-defaults.conf");
    for (String key : ConfigKeys.KEYS) {
      assertEquals(valueAt(defaults, key).unwrapped(), valueAt(file, key).unwrapped(), "the default shown for " + key);
    }
  }

  @Test
  void checkConfigMasksSecretsAndNamesWhereEachValueCameFrom() {
    String secret = "very-secret-jwt-0123456789abcdef0123";
    String token = "metrics-token-abcdef";
    Config c = ConfigFactory.parseMap(Map.of("socket.http.port", 9001), "system properties")
        .withFallback(Settings.fromEnv(Map.of("SOCKET_JWT_SECRET", secret, "SOCKET_METRICS_TOKEN", token)))
        .withFallback(DEFAULTS).resolve();
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    assertEquals(0, Main.checkConfig(c, new java.io.PrintStream(bytes, true)));
    String out = bytes.toString();
    assertFalse(out.contains(secret), out);
    assertFalse(out.contains(token), out);
    for (String key : ConfigKeys.KEYS) assertTrue(out.contains(key + " "), key + " listed:\n" + out);
    assertTrue(out.matches("(?s).*socket\\.auth\\.jwt-secret +=  ?<masked>  # env SOCKET_JWT_SECRET\n.*"), out);
    assertTrue(out.matches("(?s).*socket\\.metrics\\.token +=  ?<masked>  # env SOCKET_METRICS_TOKEN\n.*"), out);
    assertTrue(out.matches("(?s).*socket\\.http\\.port += 9001  # -D\n.*"), out);
    assertTrue(out.matches("(?s).*socket\\.ws\\.require-token += \"off\"  # default\n.*"), out);
    assertTrue(out.matches("(?s).*socket\\.metrics\\.port += null  # default\n.*"), out);
    assertTrue(ConfigKeys.isSecret("socket.auth.jwt-secret") && ConfigKeys.isSecret("socket.metrics.token")
        && ConfigKeys.isSecret("socket.auth.system-key") && !ConfigKeys.isSecret("socket.ws.require-token")
        && !ConfigKeys.isSecret("socket.auth.key-file"));
  }
}

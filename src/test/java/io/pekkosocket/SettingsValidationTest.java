package io.pekkosocket;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Settings that make no sense stop startup, with a message naming the key (issue 8, item 10; audit L4). */
class SettingsValidationTest {

  private static Settings with(Map<String, Object> overrides) {
    Config c = ConfigFactory.parseMap(overrides)
        .withFallback(ConfigFactory.parseResources("socket-defaults.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
    return Settings.from(c);
  }

  static Stream<Arguments> nonsense() {
    return Stream.of(
        Arguments.of("socket.limits.handshakes-per-second", 0),
        Arguments.of("socket.limits.handshakes-per-second", -5),
        Arguments.of("socket.limits.refused-handshakes-per-second", 0),
        Arguments.of("socket.limits.handshakes-per-address", -1),
        Arguments.of("socket.limits.connections-per-system", -1),
        Arguments.of("socket.limits.groups-per-client", 0),
        Arguments.of("socket.limits.client-ids-per-send", 0),
        Arguments.of("socket.limits.group-name-length", 0),
        Arguments.of("socket.limits.user-field-length", -1),
        Arguments.of("socket.ws.outbound-buffer.frames", 0),
        Arguments.of("socket.ws.outbound-buffer.bytes", 0),
        Arguments.of("socket.ws.max-frame", 0),
        Arguments.of("socket.ws.close-timeout", "0 s"),
        Arguments.of("socket.ws.inbound-rate", 0),
        Arguments.of("socket.limits.bytes-in-flight-per-system", "512 KiB"), // below the 1 MiB max-body
        Arguments.of("socket.metrics.token", " padded "),
        Arguments.of("socket.ws.inbound-burst", 0),
        Arguments.of("socket.limits.commands-in-flight-per-system", -1),
        Arguments.of("socket.api.deadline-grace", "0 s"),
        Arguments.of("socket.ws.ping-interval", "0 s"),
        Arguments.of("socket.ws.idle-timeout", "25 s"), // not above the 25 s ping interval
        Arguments.of("socket.ws.idle-timeout", "10 s"),
        Arguments.of("socket.http.idle-timeout", "25 s"),
        Arguments.of("socket.http.idle-timeout", "1 s"),
        Arguments.of("socket.http.port", 70000),
        Arguments.of("socket.http.port", -1),
        Arguments.of("socket.api.max-body", 0),
        Arguments.of("socket.api.ask-timeout", "0 s"),
        Arguments.of("socket.shutdown.drain", "-1 s"),
        Arguments.of("socket.node-id", "n 1"),
        Arguments.of("socket.node-id", ""),
        Arguments.of("socket.systems", List.of("ok", " padded")),
        Arguments.of("socket.auth.leeway", "-1 s"),
        Arguments.of("socket.auth.leeway", "11 minutes"),
        Arguments.of("socket.auth.leeway", "1500 ms"),
        Arguments.of("socket.node-id", "n1234567890123456789012345678901234"), // over 32
        Arguments.of("socket.cluster.port", 70000),
        Arguments.of("socket.cluster.gather-timeout", "0 s"),
        Arguments.of("socket.cluster.seed-nodes", List.of("host-without-port")),
        Arguments.of("socket.cluster.seed-nodes", List.of("pekko://other-system@127.0.0.1:17355")),
        Arguments.of("socket.cluster.seed-nodes", List.of("127.0.0.1:17355/path")));
  }

  @Test
  void inClusterModeTheGatherTimeoutIsBelowTheAskTimeout() {
    Map<String, Object> on = Map.of("socket.cluster.enabled", "on", "socket.cluster.gather-timeout", "5 s");
    Settings.InvalidSetting e = assertThrows(Settings.InvalidSetting.class, () -> with(on));
    assertTrue(e.getMessage().contains("socket.cluster.gather-timeout"), e.getMessage());
    // off, it is not used, and a short ask-timeout stays valid
    assertDoesNotThrow(() -> with(Map.of("socket.api.ask-timeout", "300 ms")));
  }

  @Test
  void seedsMayBeHostAndPortOrFullAddresses() {
    Settings s = with(Map.of("socket.cluster.seed-nodes",
        List.of("127.0.0.1:17356", " node-b.internal:17357 ", "pekko://pekko-socket@10.0.0.3:17358", "")));
    assertEquals(List.of("pekko://pekko-socket@127.0.0.1:17356", "pekko://pekko-socket@node-b.internal:17357",
        "pekko://pekko-socket@10.0.0.3:17358"), s.cluster().seedNodes());
    Config env = Settings.fromEnv(Map.of("SOCKET_CLUSTER_SEEDS", "127.0.0.1:1,127.0.0.1:2", "SOCKET_CLUSTER_ENABLED",
        "on", "SOCKET_NODE_ID", "n7"));
    Settings fromEnv = Settings.from(env.withFallback(ConfigFactory.parseResources("socket-defaults.conf"))
        .withFallback(ConfigFactory.defaultReference()).resolve());
    assertEquals(List.of("pekko://pekko-socket@127.0.0.1:1", "pekko://pekko-socket@127.0.0.1:2"),
        fromEnv.cluster().seedNodes());
    assertTrue(fromEnv.cluster().enabled());
    assertEquals("n7", fromEnv.nodeId());
  }

  @ParameterizedTest(name = "{0} = {1}")
  @MethodSource("nonsense")
  void aNonsensicalValueIsRefusedNamingItsKey(String key, Object value) {
    Settings.InvalidSetting e = assertThrows(Settings.InvalidSetting.class, () -> with(Map.of(key, value)));
    assertTrue(e.getMessage().contains(key), e.getMessage());
  }

  @Test
  void theIdleTimeoutsMayBeAnythingAboveThePingInterval() {
    Settings s = with(Map.of("socket.ws.ping-interval", "300 ms", "socket.ws.idle-timeout", "301 ms",
        "socket.http.idle-timeout", "1 s", "socket.limits.connections-per-system", 0,
        "socket.limits.handshakes-per-address", 0, "socket.shutdown.drain", "0 s", "socket.http.port", 0));
    assertEquals(300, s.pingInterval().toMillis());
    assertEquals(301, s.idleTimeout().toMillis());
  }

  @Test
  void theHttpIdleTimeoutIsComparedWithThePingIntervalNotTheDefaults() {
    Settings.InvalidSetting e = assertThrows(Settings.InvalidSetting.class, () -> with(Map.of(
        "socket.ws.ping-interval", "80 s", "socket.ws.idle-timeout", "200 s")));
    assertTrue(e.getMessage().contains("socket.http.idle-timeout"), e.getMessage());
    assertTrue(e.getMessage().contains("socket.ws.ping-interval"), e.getMessage());
  }

  @Test
  void theLeewayIsThirtySecondsByDefaultAndMayBeOff() {
    assertEquals(30, with(Map.of()).authLeeway().toSeconds());
    assertEquals(0, with(Map.of("socket.auth.leeway", "0 s")).authLeeway().toSeconds());
    assertEquals(600, with(Map.of("socket.auth.leeway", "10 minutes")).authLeeway().toSeconds());
  }

  @Test
  void theDefaultsAreValid() {
    assertDoesNotThrow(() -> with(Map.of()));
  }
}

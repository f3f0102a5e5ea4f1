package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Issue 9 item 6: the commands of the real process (Main in a child JVM), their output and exit statuses. */
class CommandLineTest {
  record Run(int exit, String out, String err) {}

  /** Runs Main with {@code args} in an empty working directory, with only {@code env} of the SOCKET_* variables. */
  static Run run(Map<String, String> env, List<String> jvmArgs, String... args) throws Exception {
    Path work = Files.createTempDirectory("pekko-socket-cli");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m"));
    cmd.addAll(jvmArgs);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.pekkosocket.Main"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile())
        .redirectOutput(work.resolve("out").toFile()).redirectError(work.resolve("err").toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("SOCKET_"));
    pb.environment().putAll(env);
    Process p = pb.start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the command must end");
    return new Run(p.exitValue(), Files.readString(work.resolve("out"), StandardCharsets.UTF_8),
        Files.readString(work.resolve("err"), StandardCharsets.UTF_8));
  }

  @Test
  void checkConfigPrintsEveryKeyWithSecretsMaskedAndExitsZero() throws Exception {
    String secret = "cli-secret-" + java.util.UUID.randomUUID();
    String scrape = "cli-scrape-" + java.util.UUID.randomUUID();
    Run r = run(Map.of("SOCKET_JWT_SECRET", secret, "SOCKET_METRICS_TOKEN", scrape, "SOCKET_SYSTEMS", "a,b",
        "SOCKET_NOT_A_SETTING", "1"), List.of("-Dsocket.http.port=9123"), "check-config");
    assertEquals(0, r.exit(), r.err());
    for (String key : io.pekkosocket.ConfigKeys.KEYS) assertTrue(r.out().contains(key + " "), key + ":\n" + r.out());
    assertFalse(r.out().contains(secret) || r.err().contains(secret), r.out());
    assertFalse(r.out().contains(scrape) || r.err().contains(scrape), r.out());
    assertTrue(r.out().matches("(?s).*socket\\.auth\\.jwt-secret += <masked>  # env SOCKET_JWT_SECRET\n.*"), r.out());
    assertTrue(r.out().matches("(?s).*socket\\.http\\.port += \"9123\"  # -D\n.*"), r.out());
    assertTrue(r.out().matches("(?s).*socket\\.systems += \\[\"a\",\"b\"]  # env SOCKET_SYSTEMS\n.*"), r.out());
    assertTrue(r.err().contains("SOCKET_NOT_A_SETTING"), "an unknown SOCKET_ variable is named: " + r.err());
  }

  @Test
  void checkConfigPrintsTheProblemAndExitsOne() throws Exception {
    Run unknown = run(Map.of(), List.of("-Dsocket.ws.idel-timeout=90s"), "check-config");
    assertEquals(1, unknown.exit(), unknown.out());
    assertTrue(unknown.err().contains("socket.ws.idel-timeout"), unknown.err());
    Run invalid = run(Map.of("SOCKET_WS_INBOUND_RATE", "0"), List.of(), "check-config");
    assertEquals(1, invalid.exit(), invalid.out());
    assertTrue(invalid.err().contains("socket.ws.inbound-rate"), invalid.err());
    Run missingFile = run(Map.of(), List.of("-Dconfig.file=/nonexistent/socket.conf"), "check-config");
    assertEquals(1, missingFile.exit(), missingFile.out());
    assertTrue(missingFile.err().contains("/nonexistent/socket.conf"), missingFile.err());
  }

  @Test
  void helpDescribesEveryCommandAndExitsZero() throws Exception {
    Run r = run(Map.of(), List.of(), "--help");
    assertEquals(0, r.exit(), r.err());
    for (String s : List.of("server", "token --role admin|system|client [--system-id ID] [--user-id U] [--ttl 24h] "
        + "[--key-file F]", "check-config", "version", "--help")) {
      assertTrue(r.out().contains(s), s + ":\n" + r.out());
    }
  }

  @Test
  void versionPrintsTheBuildsVersionAndExitsZero() throws Exception {
    Run r = run(Map.of(), List.of(), "version");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().trim().matches("pekko-socket \\d+\\.\\d+\\.\\d+.*"), r.out());
    assertFalse(r.out().contains("unknown"), r.out());
  }

  @Test
  void anUnknownCommandExitsTwoWithTheUsage() throws Exception {
    Run r = run(Map.of(), List.of(), "serve");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("unknown command: serve") && r.err().contains("check-config"), r.err());
  }
}

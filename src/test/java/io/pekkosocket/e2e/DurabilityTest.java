package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.io.File;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The registry survives a kill -9 of the real server process; a corrupt store stops startup. */
class DurabilityTest {

  static final class Process implements AutoCloseable {
    final java.lang.Process process;
    final int port;
    final Path log;

    Process(Path dataDir) throws Exception {
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      Path work = Files.createTempDirectory("pekko-socket-proc");
      log = work.resolve("server.log");
      ProcessBuilder pb = new ProcessBuilder(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx256m", "-cp", System.getProperty("java.class.path"), "io.pekkosocket.Main")
          .directory(work.toFile())
          .redirectErrorStream(true)
          .redirectOutput(log.toFile());
      pb.environment().put("SOCKET_HTTP_HOST", "127.0.0.1");
      pb.environment().put("SOCKET_HTTP_PORT", Integer.toString(port));
      pb.environment().put("SOCKET_DATA_DIR", dataDir.toString());
      pb.environment().put("SOCKET_JWT_SECRET", TestServer.SECRET);
      process = pb.start();
    }

    Api api() {
      return new Api(port, TestServer.ADMIN);
    }

    /** Awaits readiness (or the process's exit, which fails the test with its log). */
    void awaitReady() throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) fail("server exited with " + process.exitValue() + ":\n" + logText());
        try {
          if (api().get("/health/ready").status() == 200) return;
        } catch (AssertionError notYet) {
          // connection refused while starting
        }
        process.waitFor(100, TimeUnit.MILLISECONDS);
      }
      fail("server not ready within 60 s:\n" + logText());
    }

    String logText() throws Exception {
      return Files.readString(log, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws Exception {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aRegisteredSystemSurvivesKillDashNine() throws Exception {
    Path data = Files.createTempDirectory("pekko-socket-data");
    String id = "durable-" + System.nanoTime();
    try (Process first = new Process(data)) {
      first.awaitReady();
      Api.Response r = first.api().post("register", null, "{\"systemId\":" + Api.q(id) + "}");
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":[]}", r.body());
      first.process.destroyForcibly(); // SIGKILL right after the reply: no shutdown hook runs
      assertTrue(first.process.waitFor(30, TimeUnit.SECONDS));
    }
    try (Process second = new Process(data)) {
      second.awaitReady();
      assertEquals("{\"code\":-1,\"msg\":\"该系统ID已被注册\",\"data\":[]}",
          second.api().post("register", null, "{\"systemId\":" + Api.q(id) + "}").body());
      try (WsClient c = WsClient.open("ws://127.0.0.1:" + second.port + "/ws?systemId=" + id, Map.of())) {
        c.awaitWelcome();
      }
      assertEquals(0, second.api().post("get_all_groups", id, "{}").code());
    }
  }

  @Test
  void aCorruptStoreStopsStartupWithAClearMessage() throws Exception {
    Path data = Files.createTempDirectory("pekko-socket-corrupt");
    byte[] garbage = new byte[8192];
    new java.util.Random(42).nextBytes(garbage);
    Files.write(data.resolve("systems.db"), garbage);
    try (Process p = new Process(data)) {
      assertTrue(p.process.waitFor(60, TimeUnit.SECONDS), "the server must not start");
      assertEquals(1, p.process.exitValue());
      String log = p.logText();
      assertTrue(log.contains("unreadable or corrupt"), log);
      assertTrue(log.contains(data.resolve("systems.db").toAbsolutePath().toString()), log);
    }
    assertArrayEquals(garbage, Files.readAllBytes(data.resolve("systems.db")), "the store is left as it was");
  }

  @Test
  void anUnwritableDataDirStopsStartup() throws Exception {
    Path file = Files.createTempFile("pekko-socket-notadir", ".txt");
    try (Process p = new Process(file.resolve("sub"))) {
      assertTrue(p.process.waitFor(60, TimeUnit.SECONDS), "the server must not start");
      assertEquals(1, p.process.exitValue());
      assertTrue(p.logText().contains("unreadable or corrupt") || p.logText().contains(file.toString()),
          p.logText());
    }
  }

  @Test
  void preRegisteredSystemsFromConfigAreAvailable() throws Exception {
    Path data = Files.createTempDirectory("pekko-socket-pre");
    try (TestServer s = TestServer.start(Map.of("socket.data-dir", data.toString(),
        "socket.systems", java.util.List.of("from-config-a", "from-config-b")))) {
      assertEquals(-1, s.api.post("register", null, "{\"systemId\":\"from-config-a\"}").code());
      try (WsClient c = s.connect("from-config-b")) {
        assertNotNull(c.clientId);
      }
    }
    assertTrue(new File(data.toFile(), "systems.db").isFile());
  }
}

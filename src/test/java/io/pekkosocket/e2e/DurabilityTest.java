package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.ServerProcess;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The registry survives a kill -9 of the real server process; a corrupt store stops startup. */
class DurabilityTest {

  @Test
  void aRegisteredSystemSurvivesKillDashNine() throws Exception {
    Path data = Files.createTempDirectory("pekko-socket-data");
    String id = "durable-" + System.nanoTime();
    try (ServerProcess first = new ServerProcess(data)) {
      first.awaitReady();
      Api.Response r = first.api().post("register", null, "{\"systemId\":" + Api.q(id) + "}");
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":[]}", r.body());
      first.process.destroyForcibly(); // SIGKILL right after the reply: no shutdown hook runs
      assertTrue(first.process.waitFor(30, TimeUnit.SECONDS));
    }
    try (ServerProcess second = new ServerProcess(data)) {
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
    try (ServerProcess p = new ServerProcess(data)) {
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
    try (ServerProcess p = new ServerProcess(file.resolve("sub"))) {
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

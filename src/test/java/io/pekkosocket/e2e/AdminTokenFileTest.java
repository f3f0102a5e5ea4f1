package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.ServerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Issue 9 item 4 (audit L5): without a secret, the run's admin token goes to a 0600 file, never to the log. */
class AdminTokenFileTest {

  @Test
  void withoutASecretTheAdminTokenIsInAPrivateFileAndNotInTheLog() throws Exception {
    Path dataDir = Files.createTempDirectory("pekko-socket-admin-token");
    Path file = dataDir.resolve("admin-token");
    // -D wins over the SOCKET_JWT_SECRET that ServerProcess sets: no secret configured
    try (ServerProcess p = new ServerProcess(dataDir, "-Dsocket.auth.jwt-secret=")) {
      p.awaitReady();
      assertTrue(Files.isRegularFile(file), "the token file exists once the server is ready");
      assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
          Files.getPosixFilePermissions(file));
      String token = Files.readString(file).trim();
      assertTrue(token.split("\\.").length == 3, "a JWT: " + token.length() + " characters");

      Api admin = new Api(p.port, token);
      assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":[]}",
          admin.post("register", null, "{\"systemId\":\"from-the-file\"}").body(), "the file's token is an admin token");
      assertEquals(401, p.api().post("register", null, "{\"systemId\":\"x\"}").status(),
          "a token of the configured-secret kind is refused: the secret is random");

      // the log names the file (awaited: it may be flushed after readiness) and never holds the token
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!p.logText().contains(file.toAbsolutePath().toString()) && System.nanoTime() < deadline) {
        p.process.waitFor(50, TimeUnit.MILLISECONDS);
      }
      String log = p.logText();
      assertTrue(log.contains(file.toAbsolutePath().toString()), log);
      assertFalse(log.contains(token), "the admin token is in the log:\n" + log);
      assertFalse(log.contains(token.substring(token.lastIndexOf('.') + 1)), "its signature is in the log");
    }
  }
}

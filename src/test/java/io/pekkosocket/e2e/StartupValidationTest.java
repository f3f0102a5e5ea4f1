package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.ServerProcess;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A nonsensical setting stops the real process with exit status 1 and a message naming the key. */
class StartupValidationTest {

  @Test
  void aNonsensicalSettingStopsTheProcessWithExitOneNamingTheKey() throws Exception {
    try (ServerProcess p = new ServerProcess(Files.createTempDirectory("pekko-socket-invalid"),
        "-Dsocket.limits.handshakes-per-second=0")) {
      assertTrue(p.process.waitFor(60, TimeUnit.SECONDS), "the server must not start");
      assertEquals(1, p.process.exitValue(), p.logText());
      String out = p.logText();
      assertTrue(out.contains("socket.limits.handshakes-per-second"), out);
      assertFalse(out.contains("\tat "), "a message, not a stack trace:\n" + out);
    }
  }

  /** A typo in a key (issue 9 item 6) stops the real process as well, naming the key, instead of being ignored. */
  @Test
  void anUnknownKeyStopsTheProcessWithExitOneNamingTheKey() throws Exception {
    try (ServerProcess p = new ServerProcess(Files.createTempDirectory("pekko-socket-unknown"),
        "-Dsocket.ws.idel-timeout=90s")) {
      assertTrue(p.process.waitFor(60, TimeUnit.SECONDS), "the server must not start");
      assertEquals(1, p.process.exitValue(), p.logText());
      String out = p.logText();
      assertTrue(out.contains("unknown setting socket.ws.idel-timeout"), out);
      assertFalse(out.contains("\tat "), "a message, not a stack trace:\n" + out);
    }
  }
}

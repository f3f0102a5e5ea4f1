package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.RawWsClient;
import io.pekkosocket.ServerProcess;
import io.pekkosocket.WsClient;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** SIGTERM: readiness 503 first, every client closed with 1012 over the drain window, no 1002, exit 0. */
class ShutdownTest {

  @Test
  void sigtermDrainsEveryConnectionAndExitsZero() throws Exception {
    try (ServerProcess p = new ServerProcess(Files.createTempDirectory("pekko-socket-drain"),
        "-Dsocket.shutdown.drain=2s")) {
      p.awaitReady();
      Api api = p.api();
      api.post("register", null, "{\"systemId\":\"s1\"}");
      api.post("register", null, "{\"systemId\":\"s2\"}");
      List<WsClient> clients = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        WsClient c = WsClient.open("ws://127.0.0.1:" + p.port + "/ws?systemId=s" + (1 + i % 2), Map.of());
        c.awaitWelcome();
        api.post("bind_to_group", "s" + (1 + i % 2), "{\"clientId\":" + Api.q(c.clientId) + ",\"groupName\":\"g\"}");
        clients.add(c);
      }
      // every member has seen all joins of its group: 15 per group
      for (WsClient c : clients) {
        int index = clients.indexOf(c);
        int joinsAfter = 15 - index / 2;
        for (int k = 0; k < joinsAfter; k++) assertEquals(1001, c.nextJson().get("code").asInt());
      }

      long termAt = System.nanoTime();
      p.process.destroy(); // SIGTERM
      long firstClose = Long.MAX_VALUE;
      long lastClose = 0;
      // the first close a client sees comes after readiness turned 503: asked right then, it answers 503
      CompletableFuture.anyOf(clients.stream().map(WsClient::closedFuture).toArray(CompletableFuture[]::new))
          .get(15, TimeUnit.SECONDS);
      assertEquals(503, api.get("/health/ready").status(), "readiness turned 503 before the first close");
      for (WsClient c : clients) {
        WsClient.Closed closed = c.awaitClose();
        assertEquals(1012, closed.code(), "service restart");
        long at = closed.atNanos();
        firstClose = Math.min(firstClose, at);
        lastClose = Math.max(lastClose, at);
      }
      assertTrue(p.process.waitFor(15, TimeUnit.SECONDS), "exits within the window plus a few seconds");
      assertEquals(0, p.process.exitValue(), p.logText());
      assertTrue(lastClose - termAt < TimeUnit.SECONDS.toNanos(2 + 4), "closed within the drain window");
      assertTrue(lastClose - firstClose > TimeUnit.MILLISECONDS.toNanos(1_000), "closes spread over the window");
      for (WsClient c : clients) {
        for (String frame : c.drain()) assertFalse(frame.contains("\"code\":1002"), "no 1002 during a drain");
      }
    }
  }

  @Test
  void theDrainWaitsUntilASlowReaderHasItsQueuedFramesAndTheCloseFrame() throws Exception {
    // a small kernel send buffer keeps the megabyte in the server's queue rather than in the kernel
    try (ServerProcess p = new ServerProcess(Files.createTempDirectory("pekko-socket-drain-slow"),
        "-Dsocket.shutdown.drain=200ms", "-Dpekko.http.server.socket-options.so-send-buffer-size=16k")) {
      p.awaitReady();
      Api api = p.api();
      api.post("register", null, "{\"systemId\":\"s\"}");
      try (RawWsClient slow = new RawWsClient(p.port, "/ws?systemId=s", 4096)) {
        String clientId = slow.welcomeClientId();
        String payload = "z".repeat(16 * 1024);
        int queued = 64; // 1 MiB
        for (int i = 0; i < queued; i++) {
          Api.Response r = api.post("send_to_client", "s",
              "{\"clientId\":" + Api.q(clientId) + ",\"data\":\"" + i + payload + "\"}");
          assertTrue(r.data().get("delivered").asBoolean());
        }
        p.process.destroy(); // SIGTERM
        int received = 0;
        RawWsClient.Frame f;
        while ((f = slow.read()).opcode() != 8) {
          if (f.opcode() != 1) continue;
          assertTrue(f.text().contains("\"data\":\"" + received + "z"), "frame " + received + " in order");
          received++;
          Thread.sleep(10); // a slow reader: the drain must wait for it, within the close timeout
        }
        assertEquals(queued, received, "every frame counted in a delivered arrived before the close");
        assertEquals(1012, f.closeCode());
      }
      assertTrue(p.process.waitFor(15, TimeUnit.SECONDS));
      assertEquals(0, p.process.exitValue(), p.logText());
    }
  }
}

package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.RawWsClient;
import io.pekkosocket.TcpTable;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every frame RFC 6455 forbids, sent raw over TCP, closes the connection with the code of PROTOCOL.md's close-code
 * table, decided at the frame's header (before a promised payload arrives), while a bystander on the same system
 * keeps receiving. Each test opens its own connections.
 */
class HostileFramesTest {
  static final int FIN = 0x80;
  static final int TEXT = 0x1;
  static final int BINARY = 0x2;
  static final int CLOSE = 0x8;
  static final int PING = 0x9;

  static TestServer server;
  static String system;
  static WsClient bystander;

  @BeforeAll
  static void start() {
    // a small kernel send buffer, so that a client that stops reading leaves frames waiting in the server's queue
    server = TestServer.start(Map.of("socket.ws.close-timeout", "1s",
        "pekko.http.server.socket-options.so-send-buffer-size", "32k"));
    system = server.newSystem();
    bystander = server.connect(system);
  }

  @AfterAll
  static void stop() throws Exception {
    bystander.close();
    server.close();
  }

  static RawWsClient open() throws IOException {
    RawWsClient c = new RawWsClient(server.port(), "/ws?systemId=" + system, 0);
    c.welcomeClientId();
    return c;
  }

  /** The next frames up to the close frame; fails on anything but pings before it. */
  static RawWsClient.Frame awaitClose(RawWsClient c) throws IOException {
    while (true) {
      RawWsClient.Frame f = c.read();
      if (f.opcode() == CLOSE) return f;
      assertEquals(PING, f.opcode(), "only pings may come before the close frame: " + f.text());
    }
  }

  static String reasonOf(RawWsClient.Frame close) {
    return new String(close.payload(), 2, close.payload().length - 2, StandardCharsets.UTF_8);
  }

  /** After its close frame the server ends the TCP connection: the stream ends (EOF or reset). */
  static void assertStreamEnds(RawWsClient c) throws IOException {
    c.setReadTimeout(10_000);
    try {
      RawWsClient.Frame extra = c.read();
      fail("a frame after the close frame: opcode " + extra.opcode());
    } catch (java.io.EOFException | java.net.SocketException ended) {
      // the connection is over
    }
  }

  static void assertClosedWith(RawWsClient c, int code) throws IOException {
    RawWsClient.Frame close = awaitClose(c);
    assertEquals(code, close.closeCode(), "close reason: " + reasonOf(close));
    assertStreamEnds(c);
  }

  /** The rest of the server noticed nothing: a push to another client of the same system arrives. */
  static void assertBystanderServed() {
    String marker = "still-here-" + System.nanoTime();
    Api.Response r = server.api.post("send_to_client", system,
        "{\"clientId\":" + Api.q(bystander.clientId) + ",\"data\":" + Api.q(marker) + "}");
    assertTrue(r.data().get("delivered").asBoolean());
    assertEquals(marker, bystander.nextJson().get("data").asText());
  }

  @Test
  void aPingDeclaringOneMebibyteIsRefusedBeforeItsPayload() throws Exception {
    try (RawWsClient c = open()) {
      c.sendFrame(FIN | PING, 1 << 20, true, new byte[0]); // the header only: the payload never comes
      assertClosedWith(c, 1002);
    }
    assertBystanderServed();
  }

  @Test
  void aPingDeclaringTwoToTheFortyBytesIsCutOffAfterAFewMebibytes() throws Exception {
    try (RawWsClient c = open()) {
      c.sendFrame(FIN | PING, 1L << 40, true, new byte[0]);
      AtomicLong written = new AtomicLong();
      long limit = 256L << 20;
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        byte[] chunk = new byte[64 * 1024];
        try {
          while (written.get() < limit) {
            c.sendRaw(chunk);
            written.addAndGet(chunk.length);
          }
        } catch (IOException refused) {
          // the server has closed the connection: what it accepted until then is the figure
        }
      });
      Optional<RawWsClient.Frame> close = Optional.empty();
      try {
        close = Optional.of(awaitClose(c));
      } catch (java.net.SocketException reset) {
        // closing with unread input resets the connection; the close frame may be lost with it
      }
      writer.get(30, TimeUnit.SECONDS);
      close.ifPresent(f -> assertEquals(1002, f.closeCode()));
      assertTrue(written.get() < 64L << 20,
          "the server stopped taking the bogus payload: " + (written.get() >> 20) + " MiB written");
    }
    assertBystanderServed();
  }

  @Test
  void aFragmentedPingIsAProtocolError() throws Exception {
    try (RawWsClient c = open()) {
      c.sendFrame(PING, 0, true, new byte[0]); // FIN = 0
      assertClosedWith(c, 1002);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0x40, 0x20, 0x10})
  void reservedBitsWithoutAnExtensionAreAProtocolError(int rsv) throws Exception {
    try (RawWsClient c = open()) {
      c.sendFrame(FIN | rsv | TEXT, 2, true, "hi".getBytes(StandardCharsets.UTF_8));
      assertClosedWith(c, 1002);
    }
  }

  @Test
  void anUnmaskedClientFrameIsAProtocolError() throws Exception {
    try (RawWsClient c = open()) {
      c.sendFrame(FIN | TEXT, 2, false, "hi".getBytes(StandardCharsets.UTF_8));
      assertClosedWith(c, 1002);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0x3, 0x7, 0xB, 0xF})
  void unknownOpcodesAreAProtocolError(int opcode) throws Exception {
    try (RawWsClient c = open()) {
      c.sendFrame(FIN | opcode, 0, true, new byte[0]);
      assertClosedWith(c, 1002);
    }
  }

  @Test
  void aContinuationWithNothingToContinueIsAProtocolError() throws Exception {
    try (RawWsClient c = open()) {
      c.sendFrame(FIN, 2, true, "hi".getBytes(StandardCharsets.UTF_8)); // opcode 0
      assertClosedWith(c, 1002);
    }
  }

  @Test
  void aNewMessageInsideAFragmentedOneIsAProtocolError() throws Exception {
    try (RawWsClient c = open()) {
      c.sendFrame(TEXT, 2, true, "hi".getBytes(StandardCharsets.UTF_8)); // FIN = 0: more to come
      c.sendFrame(FIN | TEXT, 2, true, "ho".getBytes(StandardCharsets.UTF_8));
      assertClosedWith(c, 1002);
    }
  }

  @Test
  void aCloseFrameOfOneByteIsAProtocolError() throws Exception {
    try (RawWsClient c = open()) {
      c.sendFrame(FIN | CLOSE, 1, true, new byte[] {3});
      assertClosedWith(c, 1002);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535})
  void aCloseFrameWithAnInvalidCodeIsAProtocolError(int code) throws Exception {
    try (RawWsClient c = open()) {
      c.sendFrame(FIN | CLOSE, 2, true, new byte[] {(byte) (code >> 8), (byte) code});
      assertClosedWith(c, 1002);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1000, 1001, 1003, 1011, 1012, 3000, 4999})
  void aCloseFrameWithAValidCodeIsEchoed(int code) throws Exception {
    try (RawWsClient c = open()) {
      byte[] payload = {(byte) (code >> 8), (byte) code, 'b', 'y', 'e'};
      c.sendFrame(FIN | CLOSE, payload.length, true, payload);
      assertClosedWith(c, code);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"c328", "c0af", "eda080", "f4908080", "ff", "e282"})
  void invalidUtf8InATextFrameClosesWith1007(String hex) throws Exception {
    try (RawWsClient c = open()) {
      byte[] bytes = java.util.HexFormat.of().parseHex(hex);
      c.sendFrame(FIN | TEXT, bytes.length, true, bytes);
      assertClosedWith(c, 1007);
    }
  }

  @Test
  void invalidUtf8SplitAcrossFragmentsClosesWith1007() throws Exception {
    try (RawWsClient c = open()) {
      c.sendFrame(TEXT, 2, true, new byte[] {'a', (byte) 0xE2});
      c.sendFrame(FIN, 2, true, new byte[] {(byte) 0x82, 'b'}); // E2 82 62: the third byte is no continuation
      assertClosedWith(c, 1007);
    }
  }

  @Test
  void invalidUtf8InACloseReasonClosesWith1007() throws Exception {
    try (RawWsClient c = open()) {
      byte[] payload = {0x03, (byte) 0xE8, (byte) 0xC3, 0x28}; // 1000, then C3 28
      c.sendFrame(FIN | CLOSE, payload.length, true, payload);
      assertClosedWith(c, 1007);
    }
  }

  @Test
  void validTextSplitInsideACharacterAndBinaryFramesAreReadAndIgnored() throws Exception {
    try (RawWsClient c = open()) {
      String clientId = c.clientId();
      byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // E2 82 AC
      c.sendFrame(TEXT, 1, true, new byte[] {euro[0]});
      c.sendFrame(0, 1, true, new byte[] {euro[1]}); // continuation, FIN = 0
      c.sendFrame(FIN, 1, true, new byte[] {euro[2]});
      c.sendFrame(FIN | BINARY, 2, true, new byte[] {(byte) 0xFF, (byte) 0xC0}); // binary: not UTF-8, fine
      byte[] ping = "are you there".getBytes(StandardCharsets.UTF_8);
      c.sendFrame(FIN | PING, ping.length, true, ping);
      RawWsClient.Frame pong = c.read();
      assertEquals(0xA, pong.opcode());
      assertEquals("are you there", pong.text());
      server.api.sendToClient(system, clientId, "ok").ok();
      assertTrue(c.read().text().contains("\"data\":\"ok\""), "the connection is still served");
    }
  }

  @Test
  void aPingFloodPastTheInboundRateClosesWith1008() throws Exception {
    // a default receive buffer: the pongs of the burst fit, so the close frame is not stuck behind them
    try (RawWsClient c = open()) {
      byte[] payload = new byte[125];
      long start = System.nanoTime();
      int sent = 0;
      try {
        // 1,000 pings as fast as the socket takes them, far past 50/s with a burst of 100; nothing is read meanwhile
        for (; sent < 1_000; sent++) c.sendFrame(FIN | PING, payload.length, true, payload);
      } catch (java.net.SocketException closedMeanwhile) {
        // the server closed the connection before all were sent
      }
      double elapsedSeconds = (System.nanoTime() - start) / 1e9;
      int pongs = 0;
      RawWsClient.Frame f;
      while ((f = c.read()).opcode() != CLOSE) {
        if (f.opcode() == 0xA) pongs++;
      }
      assertEquals(1008, f.closeCode());
      assertEquals("inbound frame rate exceeded", reasonOf(f));
      // the burst, plus what the bucket refilled while the client was sending
      assertTrue(pongs <= 100 + 50 * elapsedSeconds + 1, "pongs only for pings within the rate, got " + pongs);
      assertTrue(sent > 100, "the close came only after the burst was spent");
    }
    assertBystanderServed();
  }

  @Test
  void aBurstWithinTheLimitIsServed() throws Exception {
    try (RawWsClient c = open()) {
      String clientId = c.clientId();
      for (int i = 0; i < 90; i++) c.sendFrame(FIN | TEXT, 1, true, new byte[] {'x'});
      server.api.sendToClient(system, clientId, "ok").ok();
      assertTrue(c.read().text().contains("\"data\":\"ok\""), "90 frames at once are within the burst");
    }
  }

  @Test
  void aClientThatSendsCloseAndNeverReadsIsCutOffWithinTheCloseTimeout() throws Exception {
    try (RawWsClient c = new RawWsClient(server.port(), "/ws?systemId=" + system, 4096)) {
      String clientId = c.welcomeClientId();
      double discardedBefore = discarded("peer_close");
      fillTcpBuffers(clientId);
      org.junit.jupiter.api.Assumptions.assumeTrue(TcpTable.available(), "needs Linux's /proc/net/tcp");
      assertEquals(Optional.of("ESTABLISHED"), TcpTable.state(server.port(), c.localPort()));
      c.sendFrame(FIN | CLOSE, 2, true, new byte[] {0x03, (byte) 0xE8});
      // the server's echo cannot be written; it must not hold the connection
      awaitServerSideGone(c, 1_000);
      assertTrue(discarded("peer_close") > discardedBefore,
          "the queued frames the client closed on are counted as discarded");
    }
    assertBystanderServed();
  }

  @Test
  void aServerCloseToAClientThatNeverReadsEndsWithinTheCloseTimeout() throws Exception {
    try (RawWsClient c = new RawWsClient(server.port(), "/ws?systemId=" + system, 4096)) {
      String clientId = c.welcomeClientId();
      fillTcpBuffers(clientId);
      org.junit.jupiter.api.Assumptions.assumeTrue(TcpTable.available(), "needs Linux's /proc/net/tcp");
      assertEquals(Optional.of("ESTABLISHED"), TcpTable.state(server.port(), c.localPort()));
      server.api.closeClient(system, clientId).ok();
      awaitServerSideGone(c, 1_000);
    }
  }

  static double discarded(String reason) {
    double v = MetricsTest.value(server.api.get("/metrics").body(), "socket_frames_discarded_total", "reason", reason);
    return Double.isNaN(v) ? 0 : v;
  }

  /** Pushes until the socket buffers are full and frames wait in the server's queue (which does not overflow). */
  static void fillTcpBuffers(String clientId) {
    String payload = "y".repeat(16 * 1024);
    for (int i = 0; i < 48; i++) { // 768 KiB: more than loopback's buffers hold, less than the 4 MiB queue
      Api.Response r = server.api.post("send_to_client", system,
          "{\"clientId\":" + Api.q(clientId) + ",\"data\":" + Api.q(payload) + "}");
      assertTrue(r.data().get("delivered").asBoolean(), "the queue accepts");
    }
  }

  /** The kernel no longer holds the server's side of the connection (reset, or closed and acknowledged). */
  static void awaitServerSideGone(RawWsClient c, long closeTimeoutMillis) throws InterruptedException {
    org.junit.jupiter.api.Assumptions.assumeTrue(TcpTable.available(), "needs Linux's /proc/net/tcp");
    Set<String> done = Set.of("TIME_WAIT", "CLOSE", "FIN_WAIT2");
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(closeTimeoutMillis + 4_000);
    Optional<String> state = TcpTable.state(server.port(), c.localPort());
    while (state.isPresent() && !done.contains(state.get()) && System.nanoTime() < deadline) {
      Thread.sleep(50); // polls the kernel's table; the deadline, not the sleep, is the assertion
      state = TcpTable.state(server.port(), c.localPort());
    }
    assertTrue(state.isEmpty() || done.contains(state.get()),
        "the server still holds the connection: " + state.orElse("gone"));
  }
}

package io.pekkosocket.ws;

import io.pekkosocket.wire.CloseCode;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.FrameEvent$;
import org.apache.pekko.http.impl.engine.ws.FrameEventParser$;
import org.apache.pekko.http.impl.engine.ws.FrameStart;
import org.apache.pekko.http.impl.engine.ws.Protocol;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import scala.Option;

/**
 * The connection stage on its own, with a downstream that reads only when told to: what the stage holds for a peer
 * that does not read, and that it ends within the close timeout whatever the peer does.
 */
class ConnectionStageTest {
  static final ActorTestKit kit = ActorTestKit.create();
  static final Duration CLOSE_TIMEOUT = Duration.ofMillis(300);
  /** No pings, no idle timeout and no inbound rate limit in the way of what is tested here. */
  static final ConnectionStage.Limits LIMITS = new ConnectionStage.Limits(Duration.ofHours(1), Duration.ofHours(2),
      8192, CLOSE_TIMEOUT, 10_000_000, 10_000_000);

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  /** A subscriber that requests nothing until told to, and records what it receives. */
  static final class ManualSubscriber implements Subscriber<FrameEvent> {
    final CompletableFuture<Subscription> subscription = new CompletableFuture<>();
    final BlockingQueue<FrameEvent> received = new LinkedBlockingQueue<>();

    @Override
    public void onSubscribe(Subscription s) {
      subscription.complete(s);
    }

    @Override
    public void onNext(FrameEvent e) {
      received.add(e);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onComplete() {}

    void request(long n) throws Exception {
      subscription.get(5, TimeUnit.SECONDS).request(n);
    }
  }

  /** What the listener heard. */
  static final class Heard implements ConnectionStage.Listener {
    final CompletableFuture<OutboundQueue> opened = new CompletableFuture<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    final CompletableFuture<Boolean> ended = new CompletableFuture<>();

    @Override
    public void opened(OutboundQueue queue) {
      opened.complete(queue);
    }

    @Override
    public void closed(OutboundQueue queue, int code, String reason, boolean lost) {
      closed.complete(code);
    }

    @Override
    public void ended(OutboundQueue queue) {
      ended.complete(true);
    }
  }

  static FrameStart clientFrame(byte opcode, byte[] payload) {
    Option<Object> mask = Option.apply((Object) 0x1A2B3C4D);
    ByteString masked = FrameEventParser$.MODULE$.mask(ByteString.fromArray(payload), mask);
    return FrameEvent$.MODULE$.fullFrame(Protocol.Opcode$.MODULE$.forCode(opcode), mask, masked, true, false, false,
        false);
  }

  /** Runs the stage between {@code upstream} (kept open after its elements) and a downstream that never reads. */
  static CompletionStage<Done> run(Source<FrameEvent, ?> upstream, Heard heard, ManualSubscriber downstream) {
    Pair<CompletionStage<Done>, ?> mat = upstream.concat(Source.maybe())
        .viaMat(Flow.fromGraph(new ConnectionStage(queue(), LIMITS, heard, FrameCounters.NONE))
            .watchTermination(Keep.right()), Keep.right())
        .toMat(Sink.fromSubscriber(downstream), Keep.both())
        .run(kit.system());
    return mat.first();
  }

  @Test
  void tenThousandPingsFromAPeerThatDoesNotReadLeaveOnePongTheLatest() throws Exception {
    int pings = 10_000;
    List<FrameEvent> frames = new ArrayList<>();
    for (int i = 0; i < pings; i++) {
      frames.add(clientFrame(WsFrames.OP_PING, Integer.toString(i).getBytes(StandardCharsets.UTF_8)));
    }
    AtomicInteger consumed = new AtomicInteger();
    Heard heard = new Heard();
    ManualSubscriber downstream = new ManualSubscriber();
    run(Source.from(frames).map(f -> {
      consumed.incrementAndGet();
      return f;
    }), heard, downstream);
    OutboundQueue queue = heard.opened.get(5, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (consumed.get() < pings && System.nanoTime() < deadline) Thread.sleep(10);
    assertEquals(pings, consumed.get(), "the stage read every ping although nothing was written");

    // a fence: control frames go before queued frames, so every pong still held comes before it
    assertTrue(queue.offer(Frame.text("fence")));
    downstream.request(Long.MAX_VALUE);
    List<String> pongs = new ArrayList<>();
    while (true) {
      FrameEvent f = downstream.received.poll(5, TimeUnit.SECONDS);
      assertNotNull(f, "the fence never came");
      FrameStart start = (FrameStart) f;
      if (WsFrames.opcodeOf(start) == WsFrames.OP_TEXT) break;
      assertEquals(WsFrames.OP_PONG, WsFrames.opcodeOf(start));
      pongs.add(start.data().utf8String());
    }
    assertEquals(List.of(Integer.toString(pings - 1)), pongs, "one pong, answering the latest ping");
    assertFalse(heard.closed.isDone(), "nothing here is a reason to close");
  }

  @Test
  void aPeerThatSendsCloseAndNeverReadsIsLetGoWithinTheCloseTimeout() throws Exception {
    Heard heard = new Heard();
    ManualSubscriber downstream = new ManualSubscriber();
    byte[] close = {0x03, (byte) 0xE8};
    CompletionStage<Done> terminated = run(Source.single(clientFrame(WsFrames.OP_CLOSE, close)), heard, downstream);
    assertEquals(1000, heard.closed.get(5, TimeUnit.SECONDS));
    assertStops(terminated);
    assertTrue(heard.ended.get(1, TimeUnit.SECONDS));
  }

  @Test
  void aServerCloseToAPeerThatNeverReadsIsLetGoWithinTheCloseTimeout() throws Exception {
    Heard heard = new Heard();
    ManualSubscriber downstream = new ManualSubscriber();
    CompletionStage<Done> terminated = run(Source.empty(), heard, downstream);
    OutboundQueue queue = heard.opened.get(5, TimeUnit.SECONDS);
    for (int i = 0; i < 100; i++) assertTrue(queue.offer(Frame.text("frame " + i)));
    queue.close(CloseCode.NORMAL, "closed by server", true); // flush first: but nothing is ever read
    assertEquals(1000, heard.closed.get(5, TimeUnit.SECONDS));
    assertStops(terminated);
  }

  @Test
  void aPongCountsAgainstTheQueueLimits() throws Exception {
    Heard heard = new Heard();
    ManualSubscriber downstream = new ManualSubscriber();
    AtomicReference<FrameEvent> ping = new AtomicReference<>(clientFrame(WsFrames.OP_PING, new byte[] {1}));
    CompletableFuture<Void> pingNow = new CompletableFuture<>();
    Source<FrameEvent, ?> upstream = Source.completionStage(pingNow.thenApply(x -> ping.get()));
    upstream.concat(Source.maybe())
        .via(Flow.fromGraph(new ConnectionStage(new OutboundQueue(4, 4L << 20, FrameCounters.NONE), LIMITS, heard, FrameCounters.NONE)))
        .to(Sink.fromSubscriber(downstream))
        .run(kit.system());
    OutboundQueue queue = heard.opened.get(5, TimeUnit.SECONDS);
    for (int i = 0; i < 4; i++) assertTrue(queue.offer(Frame.text("frame " + i))); // the queue is full
    pingNow.complete(null);
    assertEquals(CloseCode.TRY_AGAIN_LATER, heard.closed.get(5, TimeUnit.SECONDS),
        "a pong that does not fit closes the connection as a slow consumer");
  }

  static void assertStops(CompletionStage<Done> terminated) throws Exception {
    try {
      terminated.toCompletableFuture().get(CLOSE_TIMEOUT.toMillis() + 3_000, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException aborted) {
      assertInstanceOf(ConnectionStage.Abort.class, aborted.getCause(), "aborted, not failed by a bug");
    }
  }

  static int closeCodeOf(FrameStart close) {
    ByteString d = close.data();
    return ((d.apply(0) & 0xFF) << 8) | (d.apply(1) & 0xFF);
  }

  static OutboundQueue queue() {
    return new OutboundQueue(1024, 4L << 20, FrameCounters.NONE);
  }

  /**
   * The queue is the ClientActor's and can be filled, and asked to close, before a socket's stage attaches to it:
   * the stage writes what was queued, in order, then closes with the code asked for.
   */
  @Test
  void aStageAttachedToAQueueWritesWhatWasQueuedBeforeThenTheCloseAskedForBefore() throws Exception {
    OutboundQueue queue = queue();
    assertTrue(queue.offer(Frame.text("welcome")));
    assertTrue(queue.offer(Frame.text("early push")));
    queue.close(CloseCode.SERVICE_RESTART, "service restart", true);
    assertFalse(queue.offer(Frame.text("too late")), "a queue asked to close refuses frames");
    Heard heard = new Heard();
    ManualSubscriber downstream = new ManualSubscriber();
    CompletionStage<Done> terminated = Source.<FrameEvent>maybe()
        .viaMat(Flow.fromGraph(new ConnectionStage(queue, LIMITS, heard, FrameCounters.NONE))
            .watchTermination(Keep.right()), Keep.right())
        .to(Sink.fromSubscriber(downstream))
        .run(kit.system());
    downstream.request(Long.MAX_VALUE);
    assertSame(queue, heard.opened.get(5, TimeUnit.SECONDS));
    assertEquals(CloseCode.SERVICE_RESTART, heard.closed.get(5, TimeUnit.SECONDS));
    List<String> texts = new ArrayList<>();
    FrameEvent closeFrame = null;
    for (int i = 0; i < 3; i++) {
      FrameEvent ev = downstream.received.poll(5, TimeUnit.SECONDS);
      assertNotNull(ev, "frame " + i + " was written");
      if (WsFrames.opcodeOf((FrameStart) ev) == WsFrames.OP_CLOSE) closeFrame = ev;
      else texts.add(((FrameStart) ev).data().utf8String());
    }
    assertEquals(List.of("welcome", "early push"), texts);
    assertNotNull(closeFrame, "then the close frame");
    assertEquals(CloseCode.SERVICE_RESTART, closeCodeOf((FrameStart) closeFrame));
    assertStops(terminated);
  }

  @Test
  void anAdmittedConnectionWhosePeerIsAliveStaysOpenPastTheIdleTimeout() throws Exception {
    ConnectionStage.Limits shortIdle = new ConnectionStage.Limits(Duration.ofMillis(100), Duration.ofMillis(400),
        8192, CLOSE_TIMEOUT, 10_000_000, 10_000_000);
    Heard heard = new Heard();
    ManualSubscriber downstream = new ManualSubscriber();
    Source<FrameEvent, ?> pongs = Source.tick(Duration.ZERO, Duration.ofMillis(50), (FrameEvent) clientFrame(
        WsFrames.OP_PONG, new byte[0])).take(40).mapMaterializedValue(c -> org.apache.pekko.NotUsed.getInstance());
    pongs.concat(Source.maybe())
        .via(Flow.fromGraph(new ConnectionStage(queue(), shortIdle, heard, FrameCounters.NONE)))
        .to(Sink.fromSubscriber(downstream))
        .run(kit.system());
    heard.opened.get(5, TimeUnit.SECONDS);
    downstream.request(Long.MAX_VALUE);
    // 40 pongs over 2 s: five idle timeouts pass while the peer is alive; then it falls silent and gets 1001
    assertEquals(CloseCode.GOING_AWAY, heard.closed.get(10, TimeUnit.SECONDS));
  }

  /** One masked client frame cut into a FrameStart holding the first {@code cuts[0]} bytes and FrameData chunks. */
  static List<FrameEvent> inChunks(byte opcode, byte[] payload, int... cuts) {
    Option<Object> mask = Option.apply((Object) 0x1A2B3C4D);
    ByteString masked = FrameEventParser$.MODULE$.mask(ByteString.fromArray(payload), mask);
    org.apache.pekko.http.impl.engine.ws.FrameHeader header = new org.apache.pekko.http.impl.engine.ws.FrameHeader(
        Protocol.Opcode$.MODULE$.forCode(opcode), mask, payload.length, true, false, false, false);
    List<FrameEvent> events = new ArrayList<>();
    int from = 0;
    for (int i = 0; i <= cuts.length; i++) {
      int to = i < cuts.length ? cuts[i] : payload.length;
      ByteString chunk = masked.slice(from, to);
      if (i == 0) events.add(new FrameStart(header, chunk));
      else events.add(new org.apache.pekko.http.impl.engine.ws.FrameData(chunk, to == payload.length));
      from = to;
    }
    return events;
  }

  /** Feeds the events, waits until the stage has read them all, then reads what it wrote up to a fence. */
  static List<FrameStart> feed(List<FrameEvent> events, Heard heard) throws Exception {
    AtomicInteger consumed = new AtomicInteger();
    ManualSubscriber downstream = new ManualSubscriber();
    run(Source.from(events).map(f -> {
      consumed.incrementAndGet();
      return f;
    }), heard, downstream);
    OutboundQueue queue = heard.opened.get(5, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (consumed.get() < events.size() && System.nanoTime() < deadline) Thread.sleep(5);
    queue.offer(Frame.text("fence"));
    downstream.request(Long.MAX_VALUE);
    List<FrameStart> written = new ArrayList<>();
    while (true) {
      FrameStart f = (FrameStart) downstream.received.poll(5, TimeUnit.SECONDS);
      if (f == null || WsFrames.opcodeOf(f) == WsFrames.OP_TEXT || WsFrames.opcodeOf(f) == WsFrames.OP_CLOSE) {
        if (f != null) written.add(f);
        return written;
      }
      written.add(f);
    }
  }

  @Test
  void textSplitAnywhereIsCheckedWithTheRightMaskBytes() throws Exception {
    byte[] text = "a€b".getBytes(StandardCharsets.UTF_8); // 61 E2 82 AC 62: the euro sign straddles every cut
    for (int first = 0; first < text.length; first++) {
      for (int second = first + 1; second < text.length; second++) {
        Heard heard = new Heard();
        List<FrameStart> written = feed(inChunks(WsFrames.OP_TEXT, text, first, second), heard);
        assertEquals("fence", written.get(written.size() - 1).data().utf8String(),
            "valid text cut at " + first + "/" + second + " closes nothing");
        assertFalse(heard.closed.isDone());
      }
    }
  }

  @Test
  void invalidTextSplitAnywhereClosesWith1007() throws Exception {
    byte[] text = {0x61, (byte) 0xE2, (byte) 0x82, 0x62, 0x63}; // E2 82 then 'b': not a continuation byte
    for (int first = 0; first < text.length; first++) {
      for (int second = first + 1; second < text.length; second++) {
        Heard heard = new Heard();
        feed(inChunks(WsFrames.OP_TEXT, text, first, second), heard);
        assertEquals(CloseCode.INVALID_DATA, heard.closed.get(5, TimeUnit.SECONDS), "cut at " + first + "/" + second);
      }
    }
  }

  @Test
  void aPingWhosePayloadArrivesInChunksIsAnsweredWithThatPayload() throws Exception {
    Heard heard = new Heard();
    List<FrameStart> written = feed(inChunks(WsFrames.OP_PING, "hello".getBytes(StandardCharsets.UTF_8), 2, 3),
        heard);
    assertEquals(WsFrames.OP_PONG, WsFrames.opcodeOf(written.get(0)));
    assertEquals("hello", written.get(0).data().utf8String());
  }
}

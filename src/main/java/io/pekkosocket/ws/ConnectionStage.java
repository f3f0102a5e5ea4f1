package io.pekkosocket.ws;

import io.pekkosocket.wire.CloseCode;
import java.time.Duration;
import org.apache.pekko.http.impl.engine.ws.FrameData;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.FrameStart;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Serves one WebSocket connection at the frame level: writes what its {@link OutboundQueue} holds, sends pings, answers
 * pings, and runs the close handshake with the close code PROTOCOL.md asks for.
 *
 * <p>Every frame from the client is hostile until checked, and is judged at its header, before any payload is
 * buffered (Pekko HTTP's frame-level API checks none of RFC 6455 for us): RSV bits, an unmasked frame, an unknown
 * opcode, a control frame over 125 bytes or without FIN, a continuation with nothing to continue, a close frame of
 * one byte or with an invalid code close with 1002; invalid UTF-8 in a text message or a close reason with 1007;
 * a message over {@code max-frame} with 1009; more frames than the inbound rate allows with 1008. Data frames are
 * otherwise read and dropped chunk by chunk; only a control frame's payload (at most 125 bytes) is held.
 *
 * <p>Pings and the idle timeout are the node's {@link Heartbeat}'s: the stage registers with it when it starts and
 * unregisters when it stops; the heartbeat asks it to ping (every {@code ping-interval}) and to check for silence,
 * through the same wake-up as a frame offered to its queue. The stage's own timer is only the close timeout.
 *
 * <p>What the connection can hold is bounded whatever the peer sends or refuses to read: the queue's limits, one
 * pending pong (answering only the latest ping, as RFC 6455 §5.5.3 allows; it counts against the same limits) and
 * one pending ping. Once a close is decided, by either side, the TCP connection ends within {@code close-timeout}:
 * a peer that stops reading is aborted, not waited for.
 *
 * <p>The {@link Listener} hears of the connection three times: {@code opened} when the stage starts (the queue is
 * live from then on), {@code closed} as soon as either side decides to close (or the stage stops, whatever stopped
 * it), and {@code ended} when the stage has stopped and the socket is being released.
 */
public final class ConnectionStage extends GraphStage<FlowShape<FrameEvent, FrameEvent>> {

  /** What the rest of the server hears of a connection. Called from the stage; must not block. */
  public interface Listener {
    void opened(OutboundQueue queue);

    /**
     * {@code code} is the close code sent or received, or 1006 when there was none. {@code lost}: the connection
     * was lost rather than closed (no close frame, or the heartbeat timeout), and a resumable queue has been let go
     * of, not emptied: its session may wait for a resume.
     */
    void closed(OutboundQueue queue, int code, String reason, boolean lost);

    /** The stage has stopped: the close handshake is over (or was cut short) and the socket is let go. */
    default void ended(OutboundQueue queue) {}
  }

  /** How a connection behaves; from {@code socket.ws}. */
  public record Limits(Duration pingInterval, Duration idleTimeout, long maxFrame, Duration closeTimeout,
      int inboundRate, int inboundBurst) {}

  /**
   * Ends a connection that cannot be closed gracefully (the close timeout ran out, or the peer is not reading):
   * failing the stream makes Pekko abort (reset) the TCP connection at once instead of flushing.
   */
  static final class Abort extends RuntimeException {
    Abort() {
      super("connection aborted", null, false, false);
    }
  }

  private static final String CLOSE_TIMER = "close";
  private static final int MAX_CONTROL_PAYLOAD = 125;

  /** Why the stage is woken from outside: frames in its queue, or the heartbeat asking. */
  private enum Wake { FRAMES, PING, IDLE_CHECK }

  /** What the frame being read is, and so what its data chunks are for. */
  private enum Reading { NOTHING, CONTROL, TEXT, SKIP }

  private final Inlet<FrameEvent> in = Inlet.create("ConnectionStage.in");
  private final Outlet<FrameEvent> out = Outlet.create("ConnectionStage.out");
  private final FlowShape<FrameEvent, FrameEvent> shape = FlowShape.of(in, out);

  private final OutboundQueue queue;
  private final java.util.List<Frame> preamble;
  private final Limits limits;
  private final Listener listener;
  private final FrameCounters counters;

  /** A stage that serves {@code queue} (made by the connection's ClientActor, or a refusal's own) on one socket. */
  public ConnectionStage(OutboundQueue queue, Limits limits, Listener listener, FrameCounters counters) {
    this(queue, java.util.List.of(), limits, listener, counters);
  }

  /**
   * A stage that writes {@code preamble} first (a resumed session's welcome and the frames it replays), then serves
   * {@code queue}.
   */
  public ConnectionStage(OutboundQueue queue, java.util.List<Frame> preamble, Limits limits, Listener listener,
      FrameCounters counters) {
    this.counters = counters;
    this.preamble = preamble;
    this.queue = queue;
    this.limits = limits;
    this.listener = listener;
  }

  @Override
  public FlowShape<FrameEvent, FrameEvent> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attrs) {
    return new Logic();
  }

  private final class Logic extends TimerGraphStageLogic implements Heartbeat.Member {
    private final OutboundQueue.Wakeups wakeups;
    /** The one wake-up path into the stage: the queue's frames and the heartbeat's requests. */
    private final AsyncCallback<Wake> wake;
    private Heartbeat.Ticker heartbeat;
    private int heartbeatSlot;
    /** How many frames of the preamble have been written (the preamble comes before anything of the queue). */
    private int preambleWritten;
    /** The queue is no longer this stage's: a new socket took the session over, or this socket was lost. */
    private boolean letGo;
    private boolean lost;
    private final long idleNanos = limits.idleTimeout().toNanos();
    private final double tokensPerNano = limits.inboundRate() / 1e9;

    /** The last inbound frame (or the start); written here on every frame, read by the heartbeat's thread. */
    private volatile long lastActivity = System.nanoTime();
    // outbound control frames: at most one of each waits
    private boolean pingDue;
    private FrameStart pong;
    // the inbound frame being read
    private Reading reading = Reading.NOTHING;
    private FrameStart frame; // its header
    private long frameOffset; // payload bytes of it seen so far
    private ByteString controlData = ByteString.emptyByteString();
    private boolean fragmented; // a data message without FIN awaits its continuations
    private boolean textMessage; // that message is text
    private long messageBytes; // size of the (possibly fragmented) data message being read
    private final Utf8Check utf8 = new Utf8Check(); // the text message being read
    private final Utf8Check closeReason = new Utf8Check();
    // inbound rate: a token bucket of frames
    private double tokens = limits.inboundBurst();
    private long refilled = System.nanoTime();
    // closing
    private FrameStart pendingClose;
    private boolean flushBeforeClose;
    private boolean closeSent;
    private boolean peerClosed;
    private boolean discarding; // the peer broke the protocol: nothing more it sends is interpreted
    private boolean closeTimerSet;
    private int endCode = CloseCode.ABNORMAL;
    private String endReason = "";
    private boolean announced;

    Logic() {
      super(shape);
      wake = createAsyncCallback(this::onWake);
      AsyncCallback<CloseRequest> closeRequested = createAsyncCallback(this::onCloseRequest);
      AsyncCallback<Object> superseded = createAsyncCallback(x -> onSuperseded());
      wakeups = new OutboundQueue.Wakeups() {
        @Override
        public void frameAvailable() {
          wake.invoke(Wake.FRAMES);
        }

        @Override
        public void closeRequested(int code, String reason, boolean flush) {
          closeRequested.invoke(new CloseRequest(code, reason, flush));
        }

        @Override
        public void superseded() {
          superseded.invoke(Boolean.TRUE);
        }
      };

      setHandler(in, new AbstractInHandler() {
        @Override
        public void onPush() {
          onFrame(grab(in));
          if (!isClosed(in) && !hasBeenPulled(in)) pull(in);
        }

        @Override
        public void onUpstreamFinish() {
          completeStage();
        }

        @Override
        public void onUpstreamFailure(Throwable ex) {
          if (WsFrames.isProtocolError(ex) && !closing()) {
            // Pekko's parser gave up on the bytes (a 64-bit length with its top bit set): still say why
            violation(CloseCode.PROTOCOL_ERROR, "invalid frame header");
          } else {
            completeStage();
          }
        }
      });
      setHandler(out, new AbstractOutHandler() {
        @Override
        public void onPull() {
          tryPush();
        }

        @Override
        public void onDownstreamFinish(Throwable cause) {
          completeStage();
        }
      });
    }

    @Override
    public void preStart() {
      pull(in);
      heartbeat = Heartbeat.get(materializer().system()).ticker(limits.pingInterval(), limits.idleTimeout());
      heartbeatSlot = heartbeat.register(this);
      queue.attach(wakeups);
      listener.opened(queue);
    }

    @Override
    public void postStop() {
      try {
        if (!letGo && endCode == CloseCode.ABNORMAL && queue.resumable()) letGoOf(); // lost: the session may resume
        if (!letGo) {
          releasePong();
          int dropped = queue.discard(wakeups);
          if (dropped > 0) counters.discarded(discardReason(), dropped);
        }
        announceClosed();
        listener.ended(queue);
      } finally {
        if (heartbeat != null) heartbeat.unregister(this, heartbeatSlot); // last: whatever happened above
      }
    }

    private void releasePong() {
      if (pong != null) {
        queue.release(pong.data().length());
        pong = null;
      }
    }

    /** The queue stays as it is, for its session: this stage neither takes nor drops anything of it any more. */
    private void letGoOf() {
      releasePong();
      queue.detach(wakeups);
      letGo = true;
      lost = true;
    }

    /** A new socket has taken the session over: close this one, leaving the queue to the new one. */
    private void onSuperseded() {
      releasePong();
      letGo = true;
      decideClose(CloseCode.NORMAL, "session resumed elsewhere", false);
    }

    private FrameCounters.Discard discardReason() {
      if (peerClosed) return FrameCounters.Discard.PEER_CLOSE;
      return switch (endCode) {
        case CloseCode.ABNORMAL -> FrameCounters.Discard.RESET;
        case CloseCode.GOING_AWAY -> FrameCounters.Discard.HEARTBEAT;
        case CloseCode.TRY_AGAIN_LATER -> FrameCounters.Discard.OVERFLOW;
        case CloseCode.PROTOCOL_ERROR, CloseCode.INVALID_DATA, CloseCode.POLICY, CloseCode.TOO_BIG ->
            FrameCounters.Discard.PROTOCOL;
        default -> FrameCounters.Discard.CLOSE_TIMEOUT;
      };
    }

    /**
     * The client is gone as soon as either side has decided to close: its queue refuses everything from then on,
     * so the rest of the server hears of it now, not when the TCP connection finally ends.
     */
    private void announceClosed() {
      if (announced) return;
      announced = true;
      listener.closed(queue, endCode, endReason, lost);
    }

    @Override
    public void onTimer(Object key) {
      if (CLOSE_TIMER.equals(key)) failStage(new Abort());
    }

    // ---- the heartbeat's side (called from its thread: each only wakes the stage) ----

    @Override
    public long lastInbound() {
      return lastActivity;
    }

    @Override
    public void requestPing() {
      wake.invoke(Wake.PING);
    }

    @Override
    public void requestIdleCheck() {
      wake.invoke(Wake.IDLE_CHECK);
    }

    private void onWake(Wake why) {
      switch (why) {
        case PING -> {
          if (closing()) return;
          pingDue = true;
        }
        case IDLE_CHECK -> {
          // the heartbeat read an older lastActivity than this: decide on the stage's own reading
          if (closing() || System.nanoTime() - lastActivity < idleNanos) return;
          if (queue.resumable()) letGoOf(); // a dead network looks like this: the session may resume
          decideClose(CloseCode.GOING_AWAY, "heartbeat timeout", false);
          return;
        }
        default -> { } // frames in the queue
      }
      tryPush();
    }

    private boolean closing() {
      return pendingClose != null || closeSent;
    }

    // ---- inbound ----

    private void onFrame(FrameEvent ev) {
      lastActivity = System.nanoTime();
      if (discarding) return;
      if (ev instanceof FrameStart start) {
        if (reading != Reading.NOTHING) return; // cannot happen: the parser ends a frame before the next starts
        onHeader(start);
        if (discarding) return;
        onData(start.data(), start.lastPart());
      } else if (ev instanceof FrameData data) {
        onData(data.data(), data.lastPart());
      }
    }

    /** Everything that can be decided from a frame's header is decided here, before its payload arrives. */
    private void onHeader(FrameStart start) {
      if (!takeToken()) {
        violation(CloseCode.POLICY, "inbound frame rate exceeded");
        return;
      }
      byte op = WsFrames.opcodeOf(start);
      long length = WsFrames.lengthOf(start);
      boolean fin = WsFrames.fin(start);
      if (WsFrames.anyRsv(start)) {
        violation(CloseCode.PROTOCOL_ERROR, "reserved bits set");
        return;
      }
      if (!WsFrames.masked(start)) {
        violation(CloseCode.PROTOCOL_ERROR, "client frames must be masked");
        return;
      }
      frame = start;
      frameOffset = 0;
      switch (op) {
        case WsFrames.OP_PING, WsFrames.OP_PONG, WsFrames.OP_CLOSE -> {
          if (length > MAX_CONTROL_PAYLOAD) {
            violation(CloseCode.PROTOCOL_ERROR, "control frame too long");
          } else if (!fin) {
            violation(CloseCode.PROTOCOL_ERROR, "fragmented control frame");
          } else if (op == WsFrames.OP_CLOSE && length == 1) {
            violation(CloseCode.PROTOCOL_ERROR, "close frame of one byte");
          } else {
            reading = Reading.CONTROL;
            controlData = ByteString.emptyByteString();
          }
        }
        case WsFrames.OP_TEXT, WsFrames.OP_BINARY -> {
          if (fragmented) {
            violation(CloseCode.PROTOCOL_ERROR, "new message inside a fragmented one");
            return;
          }
          textMessage = op == WsFrames.OP_TEXT;
          messageBytes = 0;
          utf8.reset();
          startDataFrame(length, fin);
        }
        case WsFrames.OP_CONTINUATION -> {
          if (!fragmented) {
            violation(CloseCode.PROTOCOL_ERROR, "continuation with nothing to continue");
            return;
          }
          startDataFrame(length, fin);
        }
        default -> violation(CloseCode.PROTOCOL_ERROR, "unknown opcode");
      }
    }

    private void startDataFrame(long length, boolean fin) {
      messageBytes += length;
      if (length > limits.maxFrame() || messageBytes > limits.maxFrame()) {
        violation(CloseCode.TOO_BIG, "message too big");
        return;
      }
      fragmented = !fin;
      reading = textMessage ? Reading.TEXT : Reading.SKIP;
    }

    private void onData(ByteString data, boolean lastPart) {
      switch (reading) {
        case CONTROL -> controlData = controlData.concat(data); // at most 125 bytes: checked at the header
        case TEXT -> {
          if (!checkUtf8(data)) {
            violation(CloseCode.INVALID_DATA, "invalid UTF-8");
            return;
          }
        }
        default -> { } // binary data, or text of a closing connection: read and dropped
      }
      frameOffset += data.length();
      if (lastPart) frameComplete();
    }

    /** Unmasks and checks a chunk of a text message, continuing where the previous chunk left off. */
    private boolean checkUtf8(ByteString data) {
      int key = WsFrames.maskKey(frame);
      long offset = frameOffset;
      for (int i = 0, n = data.length(); i < n; i++, offset++) {
        int maskByte = (key >>> (24 - 8 * (int) (offset & 3))) & 0xFF;
        if (!utf8.accept((data.apply(i) ^ maskByte) & 0xFF)) return false;
      }
      return true;
    }

    private void frameComplete() {
      Reading was = reading;
      reading = Reading.NOTHING;
      if (was == Reading.CONTROL) {
        controlComplete(WsFrames.opcodeOf(frame), WsFrames.unmask(frame, controlData));
        controlData = ByteString.emptyByteString();
      } else if (was == Reading.TEXT && !fragmented && !utf8.complete()) {
        violation(CloseCode.INVALID_DATA, "invalid UTF-8");
      }
    }

    private void controlComplete(byte op, ByteString payload) {
      switch (op) {
        case WsFrames.OP_PING -> {
          if (!closing()) answerPing(payload);
        }
        case WsFrames.OP_CLOSE -> onPeerClose(payload);
        default -> { } // a pong: activity only
      }
    }

    /** Only the latest ping is answered: a new ping replaces a pong that is still waiting. */
    private void answerPing(ByteString payload) {
      if (pong != null) {
        queue.release(pong.data().length());
        pong = null;
      }
      if (!queue.reserve(payload.length())) return; // the queue is full: closing with 1013
      pong = WsFrames.control(WsFrames.OP_PONG, payload);
      tryPush();
    }

    private void onPeerClose(ByteString payload) {
      int code = CloseCode.NORMAL;
      if (payload.length() >= 2) {
        code = ((payload.apply(0) & 0xFF) << 8) | (payload.apply(1) & 0xFF);
        if (!WsFrames.validCloseCode(code)) {
          violation(CloseCode.PROTOCOL_ERROR, "invalid close code");
          return;
        }
        for (int i = 2, n = payload.length(); i < n; i++) {
          if (!closeReason.accept(payload.apply(i) & 0xFF)) {
            violation(CloseCode.INVALID_DATA, "invalid UTF-8 in close reason");
            return;
          }
        }
        if (!closeReason.complete()) {
          violation(CloseCode.INVALID_DATA, "invalid UTF-8 in close reason");
          return;
        }
      }
      peerClosed = true;
      if (closeSent) {
        completeStage();
        return;
      }
      if (closing()) {
        // our own close is still waiting to be written: send it now, drop what it was to flush
        flushBeforeClose = false;
        dropQueue();
        tryPush();
        return;
      }
      endCode = code;
      endReason = "closed by client";
      pendingClose = WsFrames.close(code, "");
      flushBeforeClose = false;
      dropQueue();
      announceClosed();
      startCloseTimer();
      tryPush();
    }

    /** A frame that breaks the rules: close with {@code code} and stop interpreting anything the peer sends. */
    private void violation(int code, String reason) {
      discarding = true;
      reading = Reading.NOTHING;
      controlData = ByteString.emptyByteString();
      decideClose(code, reason, false);
    }

    private boolean takeToken() {
      long now = System.nanoTime();
      tokens = Math.min(limits.inboundBurst(), tokens + (now - refilled) * tokensPerNano);
      refilled = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    }

    // ---- closing ----

    private void onCloseRequest(CloseRequest r) {
      decideClose(r.code(), r.reason(), r.flush());
    }

    /**
     * The one place a close is decided (the first decision wins). From here the TCP connection ends within the
     * close timeout, whatever the peer does.
     */
    private void decideClose(int code, String reason, boolean flush) {
      if (closing()) return;
      endCode = code;
      endReason = reason;
      pendingClose = WsFrames.close(code, reason);
      flushBeforeClose = flush && !letGo;
      if (!letGo) {
        queue.seal(wakeups);
        if (!flush) dropQueue();
      }
      pingDue = false;
      announceClosed();
      startCloseTimer();
      tryPush();
    }

    private void startCloseTimer() {
      if (closeTimerSet) return;
      closeTimerSet = true;
      scheduleOnce(CLOSE_TIMER, limits.closeTimeout());
    }

    private void dropQueue() {
      if (letGo) return;
      int dropped = queue.discard(wakeups);
      if (dropped > 0) counters.discarded(discardReason(), dropped);
    }

    // ---- outbound ----

    private void tryPush() {
      if (!isAvailable(out) || closeSent) return;
      if (pong != null && !peerClosed) {
        FrameStart p = pong;
        pong = null;
        queue.release(p.data().length());
        push(out, p);
        return;
      }
      if (pingDue && pendingClose == null) {
        pingDue = false;
        push(out, WsFrames.PING);
        return;
      }
      if (pendingClose == null || flushBeforeClose) {
        Frame next = preambleWritten < preamble.size() ? preamble.get(preambleWritten++)
            : letGo ? null : queue.take(wakeups);
        if (next != null) {
          push(out, next.start);
          counters.written();
          return;
        }
      }
      if (pendingClose != null) {
        push(out, pendingClose);
        pendingClose = null;
        closeSent = true;
        // the handshake is over, or there is none to wait for (a peer that broke the protocol is failed, §7.1.7).
        // Completing hands the close to Pekko, which flushes it and closes the socket; a socket whose peer never
        // drains it is reset after pekko.http.server.linger-timeout, which the server sets to close-timeout.
        if (peerClosed || discarding) completeStage();
      }
    }
  }

  private record CloseRequest(int code, String reason, boolean flush) {}
}

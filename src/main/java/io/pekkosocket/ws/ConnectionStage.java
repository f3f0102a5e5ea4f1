package io.pekkosocket.ws;

import java.time.Duration;
import java.util.ArrayDeque;
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
 * Serves one WebSocket connection at the frame level: writes what its {@link Outbox} holds, sends pings, answers
 * pings, enforces the inbound frame limit (1009) and the idle timeout (1001), and runs the close handshake with
 * the close code PROTOCOL.md asks for. Frames from the client are otherwise read and ignored.
 *
 * <p>The {@link Listener} hears of the connection exactly twice: {@code opened} when the stage starts (the outbox
 * is live from then on) and {@code closed} as soon as either side decides to close, or the stage stops, whatever
 * stopped it.
 */
public final class ConnectionStage extends GraphStage<FlowShape<FrameEvent, FrameEvent>> {

  /** What the rest of the server hears of a connection. Called from the stage; must not block. */
  public interface Listener {
    void opened(Outbox outbox);

    /** {@code code} is the close code sent or received, or {@link Outbox#ABNORMAL} when there was none. */
    void closed(Outbox outbox, int code, String reason);
  }

  /** How a connection behaves; from {@code socket.ws}. */
  public record Limits(Duration pingInterval, Duration idleTimeout, long maxFrame, int maxFrames,
      long maxBytes, Duration closeTimeout) {}

  private static final String PING_TIMER = "ping";
  private static final String IDLE_TIMER = "idle";
  private static final String CLOSE_TIMER = "close";

  private final Inlet<FrameEvent> in = Inlet.create("ConnectionStage.in");
  private final Outlet<FrameEvent> out = Outlet.create("ConnectionStage.out");
  private final FlowShape<FrameEvent, FrameEvent> shape = FlowShape.of(in, out);

  private final String clientId;
  private final Limits limits;
  private final Listener listener;
  private final FrameCounters counters;

  public ConnectionStage(String clientId, Limits limits, Listener listener, FrameCounters counters) {
    this.counters = counters;
    this.clientId = clientId;
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

  private final class Logic extends TimerGraphStageLogic {
    private final Outbox outbox;
    private final ArrayDeque<FrameStart> control = new ArrayDeque<>(2);
    private final long idleNanos = limits.idleTimeout().toNanos();

    private long lastActivity = System.nanoTime();
    // inbound frame being read
    private FrameStart controlFrame; // a control frame whose payload is still arriving
    private ByteString controlData = ByteString.emptyByteString();
    private long messageBytes; // size of the (possibly fragmented) data message being read
    // closing
    private FrameStart pendingClose;
    private boolean flushBeforeClose;
    private boolean closeSent;
    private boolean peerClosed;
    private int endCode = Outbox.ABNORMAL;
    private String endReason = "";
    private boolean announced;

    Logic() {
      super(shape);
      AsyncCallback<Object> frameAvailable = createAsyncCallback(x -> tryPush());
      AsyncCallback<CloseRequest> closeRequested = createAsyncCallback(this::onCloseRequest);
      outbox = new Outbox(clientId, limits.maxFrames(), limits.maxBytes(), new Outbox.Wakeups() {
        @Override
        public void frameAvailable() {
          frameAvailable.invoke(Boolean.TRUE);
        }

        @Override
        public void closeRequested(int code, String reason, boolean flush) {
          closeRequested.invoke(new CloseRequest(code, reason, flush));
        }
      }, counters);

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
          completeStage();
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
      scheduleAtFixedRate(PING_TIMER, limits.pingInterval(), limits.pingInterval());
      scheduleOnce(IDLE_TIMER, limits.idleTimeout());
      listener.opened(outbox);
    }

    @Override
    public void postStop() {
      outbox.ended();
      announceClosed();
    }

    /**
     * The client is gone as soon as either side has decided to close: its outbox refuses everything from then on,
     * so the rest of the server hears of it now, not when the TCP connection finally ends.
     */
    private void announceClosed() {
      if (announced) return;
      announced = true;
      listener.closed(outbox, endCode, endReason);
    }

    @Override
    public void onTimer(Object key) {
      if (PING_TIMER.equals(key)) {
        if (!closing()) {
          control.add(WsFrames.PING);
          tryPush();
        }
      } else if (IDLE_TIMER.equals(key)) {
        long idle = System.nanoTime() - lastActivity;
        if (idle >= idleNanos) outbox.close(Outbox.GOING_AWAY, "heartbeat timeout", false);
        else scheduleOnce(IDLE_TIMER, Duration.ofNanos(idleNanos - idle));
      } else if (CLOSE_TIMER.equals(key)) {
        completeStage();
      }
    }

    private boolean closing() {
      return pendingClose != null || closeSent;
    }

    private void onFrame(FrameEvent ev) {
      lastActivity = System.nanoTime();
      if (ev instanceof FrameStart start) {
        byte op = WsFrames.opcodeOf(start);
        long length = WsFrames.lengthOf(start);
        if (op >= WsFrames.OP_CLOSE) {
          controlFrame = start;
          controlData = start.data();
          if (controlData.length() >= length) controlComplete();
        } else {
          controlFrame = null;
          messageBytes = op == WsFrames.OP_CONTINUATION ? messageBytes + length : length;
          if (length > limits.maxFrame() || messageBytes > limits.maxFrame()) {
            outbox.close(Outbox.TOO_BIG, "message too big", false);
          }
          if (start.header().fin()) messageBytes = 0;
        }
      } else if (ev instanceof FrameData data && controlFrame != null) {
        controlData = controlData.concat(data.data());
        if (data.lastPart()) controlComplete();
      }
    }

    private void controlComplete() {
      FrameStart start = controlFrame;
      ByteString payload = WsFrames.unmask(start, controlData);
      controlFrame = null;
      controlData = ByteString.emptyByteString();
      switch (WsFrames.opcodeOf(start)) {
        case WsFrames.OP_PING -> {
          if (!closing()) {
            control.add(WsFrames.control(WsFrames.OP_PONG, payload));
            tryPush();
          }
        }
        case WsFrames.OP_CLOSE -> {
          peerClosed = true;
          int code = WsFrames.closeCodeOf(payload);
          if (closeSent) {
            completeStage();
          } else {
            endCode = code > 0 ? code : Outbox.NORMAL;
            endReason = "closed by client";
            outbox.ended();
            announceClosed();
            pendingClose = WsFrames.close(endCode, "");
            flushBeforeClose = false;
            tryPush();
          }
        }
        default -> { } // pong, or an unknown control opcode: activity only
      }
    }

    private void onCloseRequest(CloseRequest r) {
      if (closing()) return;
      endCode = r.code();
      endReason = r.reason();
      pendingClose = WsFrames.close(r.code(), r.reason());
      flushBeforeClose = r.flush();
      if (!r.flush()) outbox.ended();
      announceClosed();
      // A slow reader still gets its close frame once the socket drains, but a dead one is not waited for
      // longer than a silent connection would be.
      scheduleOnce(CLOSE_TIMER, limits.idleTimeout());
      tryPush();
    }

    private void tryPush() {
      if (!isAvailable(out) || closeSent) return;
      if (!control.isEmpty()) {
        push(out, control.poll());
        return;
      }
      if (pendingClose == null || flushBeforeClose) {
        FrameStart next = outbox.take();
        if (next != null) {
          push(out, next);
          counters.written();
          return;
        }
      }
      if (pendingClose != null) {
        push(out, pendingClose);
        pendingClose = null;
        closeSent = true;
        if (peerClosed) completeStage();
        else scheduleOnce(CLOSE_TIMER, limits.closeTimeout());
      }
    }
  }

  private record CloseRequest(int code, String reason, boolean flush) {}
}

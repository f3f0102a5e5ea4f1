package io.pekkosocket.ws;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.FrameEvent$;
import org.apache.pekko.http.impl.engine.ws.FrameEventParser$;
import org.apache.pekko.http.impl.engine.ws.FrameStart;
import org.apache.pekko.http.impl.engine.ws.Protocol;
import org.apache.pekko.http.impl.engine.ws.UpgradeToWebSocketLowLevel;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.util.ByteString;
import scala.Option;

/**
 * The one place that touches Pekko HTTP's frame-level WebSocket API. The public message-level API always closes
 * with 1000 or 1011; PROTOCOL.md needs 1008, 1009, 1001, 1013, 1000 and 1012, so connections are served at the
 * frame level ({@link ConnectionStage}) and this class builds and reads the frames.
 */
public final class WsFrames {
  public static final byte OP_CONTINUATION = 0x0;
  public static final byte OP_TEXT = 0x1;
  public static final byte OP_BINARY = 0x2;
  public static final byte OP_CLOSE = 0x8;
  public static final byte OP_PING = 0x9;
  public static final byte OP_PONG = 0xA;

  private static final Option<Object> NO_MASK = Option.empty();
  public static final FrameStart PING = control(OP_PING, ByteString.emptyByteString());

  private WsFrames() {}

  /** The upgrade handle of a WebSocket handshake request, if the request is one. */
  public static Optional<UpgradeToWebSocketLowLevel> upgradeOf(HttpRequest request) {
    Optional<WebSocketUpgrade> upgrade = request.getAttribute(AttributeKeys.webSocketUpgrade);
    return upgrade.filter(u -> u instanceof UpgradeToWebSocketLowLevel).map(u -> (UpgradeToWebSocketLowLevel) u);
  }

  /** Accepts the handshake and serves the connection with a frame-level flow. */
  public static HttpResponse accept(UpgradeToWebSocketLowLevel upgrade,
      Graph<FlowShape<FrameEvent, FrameEvent>, ?> handler) {
    @SuppressWarnings("unchecked")
    Graph<FlowShape<FrameEvent, FrameEvent>, Object> g = (Graph<FlowShape<FrameEvent, FrameEvent>, Object>) handler;
    return upgrade.handleFrames(g, Option.empty());
  }

  /** One complete, unmasked text frame; build it once and hand the same object to every recipient. */
  public static FrameStart text(byte[] utf8) {
    return FrameEvent$.MODULE$.fullFrame(opcode(OP_TEXT), NO_MASK, ByteString.fromArrayUnsafe(utf8), true,
        false, false, false);
  }

  public static FrameStart text(String s) {
    return text(s.getBytes(StandardCharsets.UTF_8));
  }

  public static FrameStart control(byte op, ByteString payload) {
    return FrameEvent$.MODULE$.fullFrame(opcode(op), NO_MASK, payload, true, false, false, false);
  }

  public static FrameStart close(int code, String reason) {
    return FrameEvent$.MODULE$.closeFrame(code, reason, NO_MASK);
  }

  public static byte opcodeOf(FrameStart start) {
    return start.header().opcode().code();
  }

  /** Payload size of a frame as its header declares it (the data may arrive in several chunks). */
  public static long lengthOf(FrameStart start) {
    return start.header().length();
  }

  /** Removes the client's mask from a complete control frame payload. */
  public static ByteString unmask(FrameStart start, ByteString data) {
    Option<Object> mask = start.header().mask();
    return mask.isEmpty() ? data : FrameEventParser$.MODULE$.mask(data, mask);
  }

  /** The close code a peer sent, or -1 when its close frame carried none (or a malformed one). */
  public static int closeCodeOf(ByteString unmaskedPayload) {
    Option<scala.Tuple2<Object, String>> parsed = FrameEventParser$.MODULE$.parseCloseCode(unmaskedPayload);
    return parsed.isEmpty() ? -1 : (Integer) parsed.get()._1();
  }

  private static Protocol.Opcode opcode(byte code) {
    return Protocol.Opcode$.MODULE$.forCode(code);
  }
}

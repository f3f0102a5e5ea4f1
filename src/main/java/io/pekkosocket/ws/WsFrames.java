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

  private static FrameStart text(ByteString utf8) {
    return FrameEvent$.MODULE$.fullFrame(opcode(OP_TEXT), NO_MASK, utf8, true, false, false, false);
  }

  /**
   * The frames of one push to many recipients that each get their own messageId ({@code send_to_clients}): the
   * frame is encoded once, and each recipient's frame shares its bytes, with only the 16-character messageId
   * spliced in. A push of a few MiB to thousands of recipients costs one copy, not one per recipient.
   */
  public static final class PerRecipient {
    private static final String PREFIX = "{\"messageId\":\"";
    private final ByteString head;
    private final ByteString tail;
    private final int idLength;

    /** {@code encoded} is the push's text with {@code placeholderId} as its messageId. */
    public PerRecipient(String encoded, String placeholderId) {
      if (!encoded.startsWith(PREFIX + placeholderId + "\"")) {
        throw new IllegalArgumentException("not a push frame with the placeholder messageId");
      }
      ByteString all = ByteString.fromArrayUnsafe(encoded.getBytes(StandardCharsets.UTF_8));
      head = all.take(PREFIX.length());
      tail = all.drop(PREFIX.length() + placeholderId.length());
      idLength = placeholderId.length();
    }

    /** The frame for one recipient; {@code messageId} has the placeholder's length (ASCII). */
    public FrameStart frame(String messageId) {
      if (messageId.length() != idLength) throw new IllegalArgumentException("messageId of another length");
      return text(head.concat(ByteString.fromString(messageId, StandardCharsets.US_ASCII)).concat(tail));
    }
  }

  /** Pekko's frame parser gave up on the client's bytes (a malformed frame header). */
  public static boolean isProtocolError(Throwable failure) {
    return failure instanceof org.apache.pekko.http.impl.engine.ws.ProtocolException;
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

  public static boolean fin(FrameStart start) {
    return start.header().fin();
  }

  /** Any of RSV1-3 set: meaningless here, since no extension is ever negotiated. */
  public static boolean anyRsv(FrameStart start) {
    return start.header().rsv1() || start.header().rsv2() || start.header().rsv3();
  }

  public static boolean masked(FrameStart start) {
    return start.header().mask().isDefined();
  }

  /** The masking key of a masked frame (check {@link #masked} first). */
  public static int maskKey(FrameStart start) {
    return (Integer) start.header().mask().get();
  }

  /**
   * Close codes a peer may send (RFC 6455 §7.4.1 and the IANA registry): 1000-1003, 1007-1014 and 3000-4999.
   * 1004-1006 and 1015 must never appear in a close frame.
   */
  public static boolean validCloseCode(int code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
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


  private static Protocol.Opcode opcode(byte code) {
    return Protocol.Opcode$.MODULE$.forCode(code);
  }
}

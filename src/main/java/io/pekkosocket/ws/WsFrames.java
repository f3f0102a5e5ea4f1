package io.pekkosocket.ws;

import java.nio.charset.StandardCharsets;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.FrameEvent$;
import org.apache.pekko.http.impl.engine.ws.FrameEventParser$;
import org.apache.pekko.http.impl.engine.ws.FrameStart;
import org.apache.pekko.http.impl.engine.ws.Protocol;
import org.apache.pekko.util.ByteString;
import scala.Option;

/**
 * Builds and reads Pekko HTTP's frame-level WebSocket frames for the rest of {@code ws/} ({@link ConnectionStage},
 * {@link Frame}, {@link Upgrade}): the public message-level API always closes with 1000 or 1011, and PROTOCOL.md
 * needs the other codes. Pekko HTTP's internal ({@code impl}) types are used only inside this package; the actors
 * trade in {@link Frame}.
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

  /** One complete, unmasked text frame; build it once and hand the same object to every recipient. */
  static FrameStart text(String s) {
    return text(ByteString.fromArrayUnsafe(s.getBytes(StandardCharsets.UTF_8)));
  }

  static FrameStart text(ByteString utf8) {
    return FrameEvent$.MODULE$.fullFrame(opcode(OP_TEXT), NO_MASK, utf8, true, false, false, false);
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

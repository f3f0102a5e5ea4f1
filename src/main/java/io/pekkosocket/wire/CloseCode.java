package io.pekkosocket.wire;

/**
 * The WebSocket close codes the server sends, as PROTOCOL.md tabulates them ("Close codes the server sends"), in one
 * place. Not to be confused with the 1001/1002 frame codes of membership notices ({@link FrameEncoder}).
 */
public final class CloseCode {
  private CloseCode() {}

  /** {@code close_client} ("closed by server"), or the end of a clean close the client started. */
  public static final int NORMAL = 1000;
  /** Heartbeat timeout ("heartbeat timeout"). */
  public static final int GOING_AWAY = 1001;
  /** A protocol error by the client (a frame RFC 6455 forbids). */
  public static final int PROTOCOL_ERROR = 1002;
  /** Invalid UTF-8 in a text message or a close reason. */
  public static final int INVALID_DATA = 1007;
  /** Policy: systemId missing or unknown, token refused, inbound frame rate exceeded. */
  public static final int POLICY = 1008;
  /** A frame or message over {@code max-frame}. */
  public static final int TOO_BIG = 1009;
  /** The server lost the state behind the connection. */
  public static final int INTERNAL_ERROR = 1011;
  /** The server is restarting (drain). */
  public static final int SERVICE_RESTART = 1012;
  /** Slow consumer (the queue overflowed), or too many connections for the system. */
  public static final int TRY_AGAIN_LATER = 1013;
  /** Recorded, never sent: the connection ended without a close frame. */
  public static final int ABNORMAL = 1006;
}

package io.pekkosocket.wire;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Renders every server-to-client text frame of PROTOCOL.md. One instance per server, immutable and thread-safe.
 * Each method returns the frame's exact text; callers encode it to bytes once and share the result.
 */
public final class FrameEncoder {
  public static final int CODE_ONLINE = 1001;
  public static final int CODE_OFFLINE = 1002;
  public static final String MSG_ONLINE = "客户端上线";
  public static final String MSG_OFFLINE = "客户端下线";

  private final boolean escapeHtml;
  private final boolean trailingNewline;

  public FrameEncoder(boolean escapeHtml, boolean trailingNewline) {
    this.escapeHtml = escapeHtml;
    this.trailingNewline = trailingNewline;
  }

  /** {@code {"code":0,"msg":"success","data":{"clientId":"…"}}}. */
  public String welcome(String clientId) {
    return welcome(clientId, null, null);
  }

  /**
   * The welcome of a resumable session (PROTOCOL.md "Resumption"): {@code resumeToken} after the clientId, and
   * {@code "resumed":true|false} after it when the connection asked to resume ({@code resumed} null: it did not).
   */
  public String welcome(String clientId, String resumeToken, Boolean resumed) {
    StringBuilder sb = new StringBuilder(160);
    sb.append("{\"code\":0,\"msg\":\"success\",\"data\":{\"clientId\":");
    JsonText.appendString(sb, clientId, escapeHtml);
    if (resumeToken != null) {
      sb.append(",\"resumeToken\":");
      JsonText.appendString(sb, resumeToken, escapeHtml);
      if (resumed != null) sb.append(",\"resumed\":").append(resumed);
    }
    sb.append("}}");
    return end(sb);
  }

  /** A refusal on connect (-1001 / -1002): empty messageId and sendUserId, {@code "data":[]}. */
  public String refusal(int code, String msg) {
    StringBuilder sb = new StringBuilder(96);
    sb.append("{\"messageId\":\"\",\"sendUserId\":\"\",\"code\":").append(code).append(",\"msg\":");
    JsonText.appendString(sb, msg, escapeHtml);
    sb.append(",\"data\":[]}");
    return end(sb);
  }

  /** The push envelope, keys in PROTOCOL.md's order. */
  public String push(String messageId, Push p) {
    String data = p.data() instanceof Payload.Raw raw ? JsonText.escapeRawJson(raw.json(), escapeHtml) : null;
    StringBuilder sb = new StringBuilder(80 + p.msg().length() + p.sendUserId().length()
        + (data != null ? data.length() : ((Payload.Text) p.data()).value().length() + 8));
    sb.append("{\"messageId\":");
    JsonText.appendString(sb, messageId, escapeHtml);
    sb.append(",\"sendUserId\":");
    JsonText.appendString(sb, p.sendUserId(), escapeHtml);
    sb.append(",\"code\":").append(p.code()).append(",\"msg\":");
    JsonText.appendString(sb, p.msg(), escapeHtml);
    sb.append(",\"data\":");
    if (data != null) sb.append(data);
    else JsonText.appendString(sb, ((Payload.Text) p.data()).value(), escapeHtml);
    sb.append('}');
    return end(sb);
  }

  /** A 1001 (joined) or 1002 (left) notice: {@code data} is the JSON string of the member, keys sorted. */
  public String membership(String messageId, boolean joined, String clientId, String userId, String extend) {
    Map<String, String> member = new TreeMap<>();
    member.put("clientId", clientId);
    member.put("extend", extend);
    member.put("userId", userId);
    StringBuilder inner = new StringBuilder(64 + clientId.length() + userId.length() + extend.length());
    inner.append('{');
    boolean first = true;
    for (Map.Entry<String, String> e : member.entrySet()) {
      if (!first) inner.append(',');
      first = false;
      JsonText.appendString(inner, e.getKey(), escapeHtml);
      inner.append(':');
      JsonText.appendString(inner, e.getValue(), escapeHtml);
    }
    inner.append('}');
    Push p = new Push(joined ? userId : "", joined ? CODE_ONLINE : CODE_OFFLINE,
        joined ? MSG_ONLINE : MSG_OFFLINE, new Payload.Text(inner.toString()));
    return push(messageId, p);
  }

  /**
   * An upper bound of {@link #pushBytes}, found without encoding: once escaped, each character of the caller's
   * fields takes at most 6 bytes ({@code \u003c}), and the rest of the envelope (keys, messageId, code, newline)
   * under 128. A push under a limit by this bound needs no exact measure.
   */
  public static long pushBytesAtMost(Push p) {
    long data = p.data() instanceof Payload.Raw raw ? raw.json().length() : ((Payload.Text) p.data()).value().length();
    long chars = p.sendUserId().length() + p.msg().length() + data;
    return 128 + 6 * chars;
  }

  /** The exact size in bytes of the push's frame (every messageId has 16 hex characters, so any one will do). */
  public long pushBytes(Push p) {
    return utf8Length(push("0000000000000000", p));
  }

  /** The length of {@code s} in UTF-8, as {@link String#getBytes} encodes it, without encoding it. */
  static long utf8Length(String s) {
    long n = 0;
    int len = s.length();
    for (int i = 0; i < len; i++) {
      char c = s.charAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else if (Character.isSurrogate(c)) n += 1; // a lone surrogate becomes '?'
      else n += 3;
    }
    return n;
  }


  private String end(StringBuilder sb) {
    if (trailingNewline) sb.append('\n');
    return sb.toString();
  }
}

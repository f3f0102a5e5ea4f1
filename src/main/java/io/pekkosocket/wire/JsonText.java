package io.pekkosocket.wire;

/**
 * Writes JSON string literals the way Go's encoding/json does, so that frames are byte-compatible with
 * goravel-socket / go-websocket clients.
 *
 * <p>With {@code escapeHtml} on (Go's default) {@code <}, {@code >} and {@code &} become {@code \u003c},
 * {@code \u003e}, {@code \u0026}. U+2028 and U+2029 are always escaped, as Go does. Non-ASCII text is written
 * as UTF-8, never as \\u escapes. Lone surrogates become U+FFFD, as Go replaces invalid UTF-8.
 */
public final class JsonText {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private JsonText() {}

  public static void appendString(StringBuilder out, String s, boolean escapeHtml) {
    out.append('"');
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '\u2028', '\u2029' -> unicode(out, c);
        case '<', '>', '&' -> {
          if (escapeHtml) unicode(out, c);
          else out.append(c);
        }
        default -> {
          if (c < 0x20) {
            unicode(out, c);
          } else if (Character.isHighSurrogate(c)) {
            if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
              out.append(c).append(s.charAt(++i));
            } else {
              out.append('\ufffd');
            }
          } else if (Character.isLowSurrogate(c)) {
            out.append('\ufffd');
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  public static String quote(String s, boolean escapeHtml) {
    StringBuilder sb = new StringBuilder(s.length() + 16);
    appendString(sb, s, escapeHtml);
    return sb.toString();
  }

  /**
   * Escapes {@code <}, {@code >}, {@code &}, U+2028 and U+2029 in already-serialised compact JSON. Those
   * characters can only occur inside string literals, so a plain replacement is exact (Go does the same to
   * json.RawMessage values).
   */
  public static String escapeRawJson(String json, boolean escapeHtml) {
    StringBuilder sb = null;
    int n = json.length();
    for (int i = 0; i < n; i++) {
      char c = json.charAt(i);
      boolean esc = c == '\u2028' || c == '\u2029' || (escapeHtml && (c == '<' || c == '>' || c == '&'));
      if (esc) {
        if (sb == null) {
          sb = new StringBuilder(n + 16);
          sb.append(json, 0, i);
        }
        unicode(sb, c);
      } else if (sb != null) {
        sb.append(c);
      }
    }
    return sb == null ? json : sb.toString();
  }

  private static void unicode(StringBuilder out, char c) {
    out.append("\\u").append(HEX[(c >> 12) & 0xF]).append(HEX[(c >> 8) & 0xF])
        .append(HEX[(c >> 4) & 0xF]).append(HEX[c & 0xF]);
  }
}

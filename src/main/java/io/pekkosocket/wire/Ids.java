package io.pekkosocket.wire;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Identifiers. A clientId is {@code <nodeTag>.<22 url-safe base64 chars>}: 128 bits from SecureRandom (never
 * guessed, never reused) behind the tag of the node that holds the connection, so that in cluster mode any
 * node can tell where to route a call for it. A messageId is 16 lowercase hex digits.
 */
public final class Ids {
  private static final SecureRandom SECURE = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Ids() {}

  public static String newClientId(String nodeTag) {
    byte[] bytes = new byte[16];
    SECURE.nextBytes(bytes);
    return nodeTag + "." + B64.encodeToString(bytes);
  }

  /** The node tag a clientId was minted on, or "" when the id has none. */
  public static String nodeOf(String clientId) {
    int dot = clientId.indexOf('.');
    return dot < 0 ? "" : clientId.substring(0, dot);
  }

  public static String newMessageId() {
    long v = ThreadLocalRandom.current().nextLong();
    char[] out = new char[16];
    for (int i = 15; i >= 0; i--) {
      out[i] = HEX[(int) (v & 0xF)];
      v >>>= 4;
    }
    return new String(out);
  }
}

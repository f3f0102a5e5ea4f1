package io.pekkosocket.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Resume tokens (PROTOCOL.md "Resumption"): {@code base64url(clientId "\n" nonce) "." base64url(HMAC-SHA256)}, the
 * MAC taken over the systemId, the clientId and the nonce with a key made at startup. A token is bound to its system
 * and client: guessing a clientId, or moving a token to another system, never verifies. Which nonce is good (one per
 * welcome, good for one resume) is the session's own business ({@code ClientActor}); this class only says whether a
 * token is one this process made for this system. Sessions die with the process, and so does the key.
 */
public final class ResumeTokens {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Longer than any token this class makes: a longer parameter is refused before it is decoded. */
  private static final int MAX_LENGTH = 512;

  private final SecretKeySpec key;

  /** What a verified token names. */
  public record Claim(String clientId, String nonce) {}

  public ResumeTokens() {
    byte[] k = new byte[32];
    RANDOM.nextBytes(k);
    key = new SecretKeySpec(k, "HmacSHA256");
  }

  /** A fresh nonce for a session's next token. */
  public static String newNonce() {
    byte[] n = new byte[16];
    RANDOM.nextBytes(n);
    return B64.encodeToString(n);
  }

  public String sign(String systemId, String clientId, String nonce) {
    String payload = clientId + "\n" + nonce;
    return B64.encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "." + B64.encodeToString(
        mac(systemId, payload));
  }

  /** The token's client and nonce if this process signed it for {@code systemId}; empty for anything else. */
  public Optional<Claim> verify(String token, String systemId) {
    if (token == null || token.length() > MAX_LENGTH) return Optional.empty();
    int dot = token.indexOf('.');
    if (dot <= 0 || dot != token.lastIndexOf('.')) return Optional.empty();
    try {
      String payload = new String(B64D.decode(token.substring(0, dot)), StandardCharsets.UTF_8);
      byte[] given = B64D.decode(token.substring(dot + 1));
      if (!MessageDigest.isEqual(given, mac(systemId, payload))) return Optional.empty();
      int nl = payload.indexOf('\n');
      if (nl <= 0) return Optional.empty();
      return Optional.of(new Claim(payload.substring(0, nl), payload.substring(nl + 1)));
    } catch (IllegalArgumentException notBase64) {
      return Optional.empty();
    }
  }

  private byte[] mac(String systemId, String payload) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      mac.update(systemId.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      return mac.doFinal(payload.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}

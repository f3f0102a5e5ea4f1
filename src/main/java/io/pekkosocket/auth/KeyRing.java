package io.pekkosocket.auth;

import com.auth0.jwt.algorithms.Algorithm;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The systems' own signing keys (PROTOCOL.md, Auth): per system its current key and, until its grace ends, the
 * previous one. The routes read it on every token they verify (through {@link Tokens}); only the Guardian writes it,
 * after the registry has stored the key, and at startup from the registry. Each system's entry is replaced as a
 * whole, so a reader sees a rotation entirely or not at all.
 *
 * <p>A key is the text shown once by {@code rotate_system_key}; its UTF-8 bytes are the HS256 secret, as for the
 * server's own secret. No method or {@code toString} here ever returns a key's text.
 */
public final class KeyRing {
  /** One key. Identity matters: a cached token remembers the key it was verified with. */
  static final class Key {
    final Algorithm algorithm;
    private final String text;

    private Key(String text) {
      this.text = text;
      this.algorithm = Algorithm.HMAC256(text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
      return "Key[hidden]";
    }
  }

  /** A system's keys: {@code previous} verifies while the clock is before {@code previousUntilMillis}. */
  record Entry(Key current, Key previous, long previousUntilMillis) {
    boolean verifies(Key key, long nowMillis) {
      return key == current || (key == previous && nowMillis < previousUntilMillis);
    }
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

  /** A fresh random key: 32 bytes, base64url without padding (43 characters). */
  public static String newKey() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /**
   * Sets a system's keys ({@code previous} may be null). A key whose text is already the system's current or
   * previous key keeps its identity, so tokens cached with it stay valid as long as the key does.
   */
  public void set(String systemId, String current, String previous, long previousUntilMillis) {
    entries.compute(systemId, (id, old) -> new Entry(reuse(old, current),
        previous == null ? null : reuse(old, previous), previous == null ? 0 : previousUntilMillis));
  }

  private static Key reuse(Entry old, String text) {
    if (old != null && old.current().text.equals(text)) return old.current();
    if (old != null && old.previous() != null && old.previous().text.equals(text)) return old.previous();
    return new Key(text);
  }

  /** The keys of {@code systemId}, or null when it has none. */
  Entry of(String systemId) {
    return entries.get(systemId);
  }

  /** Systems with a key (metrics, logs). */
  public int size() {
    return entries.size();
  }
}

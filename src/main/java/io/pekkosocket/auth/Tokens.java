package io.pekkosocket.auth;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.interfaces.Claim;
import com.auth0.jwt.interfaces.DecodedJWT;
import com.auth0.jwt.interfaces.JWTVerifier;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JWTs of PROTOCOL.md's Auth section, HS256 (java-jwt). A token without a {@code kid} header is verified with the
 * server's secret; a token whose {@code kid} names a system is verified only with that system's keys
 * ({@link KeyRing}: the current one, or the previous one during its grace), and only if it is a {@code system} or
 * {@code client} token whose {@code systemId} claim is the kid. A token verifies only if its header names HS256, its
 * signature matches, {@code iat} and {@code nbf} (when present) are not later than now plus the leeway, and
 * {@code exp} (when present) has not passed, with no leeway: {@code alg: none}, other algorithms, bad signatures and
 * expired tokens all fail alike.
 */
public final class Tokens {
  public static final String ADMIN = "admin";
  public static final String SYSTEM = "system";
  public static final String CLIENT = "client";

  /**
   * What a verified token says. Any field may be null when the token lacks the claim; {@code kid} is null for a token
   * signed with the server's secret, else the system whose key signed it (always equal to {@code systemId}).
   */
  public record Claims(String role, String systemId, String userId, String kid) {
    public boolean isAdmin() {
      return ADMIN.equals(role);
    }

    /** May this token act on {@code systemId} through the API? */
    public boolean mayActOn(String targetSystemId) {
      return isAdmin() || (SYSTEM.equals(role) && systemId != null && systemId.equals(targetSystemId));
    }

    /** May this token open {@code /ws} of {@code systemId}? Only client tokens, of that system. */
    public boolean mayConnectTo(String targetSystemId) {
      return CLIENT.equals(role) && systemId != null && systemId.equals(targetSystemId);
    }
  }

  /** Verified tokens, so that a backend's token is decoded and its HMAC checked once, not on every call. */
  private static final int CACHE_MAX = 10_000;

  /** A cached token: valid until {@code expiresAtMillis}, and while {@code key} (null: the server's secret) is. */
  private record Verified(Claims claims, long expiresAtMillis, KeyRing.Key key) {}

  private final Algorithm algorithm;
  private final JWTVerifier verifier;
  private final long leewaySeconds;
  private final KeyRing keys;
  private final Clock clock;
  private final ConcurrentHashMap<String, Verified> verified = new ConcurrentHashMap<>();

  /** The server's secret only, with the default leeway (the CLI, tests). */
  public Tokens(byte[] secret) {
    this(secret, Duration.ofSeconds(30), new KeyRing(), Clock.systemUTC());
  }

  /**
   * @param leeway how far {@code iat} and {@code nbf} may lie in the future (clock skew of the token's minter)
   * @param keys the systems' own keys, read on every verification
   */
  public Tokens(byte[] secret, Duration leeway, KeyRing keys, Clock clock) {
    this.algorithm = Algorithm.HMAC256(secret);
    this.leewaySeconds = leeway.toSeconds();
    this.keys = keys;
    this.clock = clock;
    this.verifier = verifierFor(algorithm);
  }

  private JWTVerifier verifierFor(Algorithm alg) {
    return ((com.auth0.jwt.JWTVerifier.BaseVerification) JWT.require(alg)
        .acceptExpiresAt(0)
        .acceptIssuedAt(leewaySeconds)
        .acceptNotBefore(leewaySeconds))
        .build(clock);
  }

  /**
   * The claims of a valid token, or empty for anything that does not verify. Never throws. A token that verified
   * before is answered from a bounded cache until its {@code exp}, and, for a token signed with a system's key, only
   * while that key still verifies (a rotation's grace ends the cached tokens of the previous key too).
   */
  public Optional<Claims> verify(String token) {
    if (token == null || token.isEmpty() || token.length() > 8192) return Optional.empty();
    long now = clock.millis();
    Verified known = verified.get(token);
    if (known != null) {
      if (now < known.expiresAtMillis() && stillValid(known, now)) return Optional.of(known.claims());
      verified.remove(token);
      return Optional.empty();
    }
    try {
      DecodedJWT decoded = JWT.decode(token);
      String kid = decoded.getKeyId();
      KeyRing.Key key = null;
      DecodedJWT jwt;
      if (kid == null) {
        jwt = verifier.verify(decoded);
      } else {
        KeyRing.Entry entry = keys.of(kid);
        if (entry == null) return Optional.empty();
        key = entry.current();
        try {
          jwt = verifierFor(key.algorithm).verify(decoded);
        } catch (JWTVerificationException notCurrent) {
          if (entry.previous() == null || !entry.verifies(entry.previous(), now)) throw notCurrent;
          key = entry.previous();
          jwt = verifierFor(key.algorithm).verify(decoded);
        }
      }
      Claims claims = new Claims(text(jwt.getClaim("role")), text(jwt.getClaim("systemId")),
          text(jwt.getClaim("userId")), kid);
      // a system's key signs only that system's system and client tokens: never an admin, never another system
      if (kid != null && (!kid.equals(claims.systemId())
          || !(SYSTEM.equals(claims.role()) || CLIENT.equals(claims.role())))) {
        return Optional.empty();
      }
      if (verified.size() >= CACHE_MAX) verified.clear();
      verified.put(token, new Verified(claims,
          jwt.getExpiresAtAsInstant() == null ? Long.MAX_VALUE : jwt.getExpiresAtAsInstant().toEpochMilli(), key));
      return Optional.of(claims);
    } catch (JWTVerificationException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private boolean stillValid(Verified known, long now) {
    if (known.key() == null) return true;
    KeyRing.Entry entry = keys.of(known.claims().kid());
    return entry != null && entry.verifies(known.key(), now);
  }

  /** The claims of a {@code Authorization: Bearer <jwt>} header value, or empty. */
  public Optional<Claims> verifyBearer(String header) {
    if (header == null) return Optional.empty();
    String h = header.trim();
    if (h.length() < 8 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return Optional.empty();
    return verify(h.substring(7).trim());
  }

  /** A token signed with the server's secret. */
  public String issue(String role, String systemId, String userId, Duration ttl) {
    return builder(role, systemId, userId, ttl).sign(algorithm);
  }

  /**
   * A {@code system} or {@code client} token signed with a system's own key ({@code key} as shown by
   * {@code rotate_system_key}), its {@code kid} header set to {@code systemId}.
   */
  public static String issueWithSystemKey(String key, String role, String systemId, String userId, Duration ttl) {
    if (!SYSTEM.equals(role) && !CLIENT.equals(role)) {
      throw new IllegalArgumentException("a system key signs only system and client tokens");
    }
    return builder(role, systemId, userId, ttl).withKeyId(systemId)
        .sign(Algorithm.HMAC256(key.getBytes(StandardCharsets.UTF_8)));
  }

  private static JWTCreator.Builder builder(String role, String systemId, String userId, Duration ttl) {
    JWTCreator.Builder b = JWT.create().withIssuedAt(Instant.now());
    if (role != null) b.withClaim("role", role);
    if (systemId != null) b.withClaim("systemId", systemId);
    if (userId != null) b.withClaim("userId", userId);
    if (ttl != null) b.withExpiresAt(Instant.now().plus(ttl));
    return b;
  }

  private static String text(Claim c) {
    return c == null || c.isMissing() || c.isNull() ? null : c.asString();
  }
}

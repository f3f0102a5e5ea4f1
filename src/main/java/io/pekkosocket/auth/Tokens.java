package io.pekkosocket.auth;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.interfaces.Claim;
import com.auth0.jwt.interfaces.DecodedJWT;
import com.auth0.jwt.interfaces.JWTVerifier;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * JWTs of PROTOCOL.md's Auth section, signed and verified with HS256 and the server's secret (java-jwt). A token
 * verifies only if its header names HS256, its signature matches and, when it has {@code exp}, it has not expired:
 * {@code alg: none}, other algorithms, bad signatures and expired tokens all fail alike.
 */
public final class Tokens {
  public static final String ADMIN = "admin";
  public static final String SYSTEM = "system";

  /** What a verified token says. Any field may be null when the token lacks the claim. */
  public record Claims(String role, String systemId, String userId) {
    public boolean isAdmin() {
      return ADMIN.equals(role);
    }

    /** May this token act on {@code systemId} through the API? */
    public boolean mayActOn(String targetSystemId) {
      return isAdmin() || (SYSTEM.equals(role) && systemId != null && systemId.equals(targetSystemId));
    }
  }

  /** Verified tokens, so that a backend's token is decoded and its HMAC checked once, not on every call. */
  private static final int CACHE_MAX = 10_000;

  private record Verified(Claims claims, long expiresAtMillis) {}

  private final Algorithm algorithm;
  private final JWTVerifier verifier;
  private final java.util.concurrent.ConcurrentHashMap<String, Verified> verified =
      new java.util.concurrent.ConcurrentHashMap<>();

  public Tokens(byte[] secret) {
    this.algorithm = Algorithm.HMAC256(secret);
    this.verifier = JWT.require(algorithm).acceptLeeway(0).build();
  }

  /**
   * The claims of a valid token, or empty for anything that does not verify. Never throws. A token that verified
   * before is answered from a bounded cache until its {@code exp}; only valid tokens are cached.
   */
  public Optional<Claims> verify(String token) {
    if (token == null || token.isEmpty() || token.length() > 8192) return Optional.empty();
    Verified known = verified.get(token);
    if (known != null) {
      if (System.currentTimeMillis() < known.expiresAtMillis()) return Optional.of(known.claims());
      verified.remove(token);
      return Optional.empty();
    }
    try {
      DecodedJWT jwt = verifier.verify(token);
      Claims claims = new Claims(text(jwt.getClaim("role")), text(jwt.getClaim("systemId")),
          text(jwt.getClaim("userId")));
      if (verified.size() >= CACHE_MAX) verified.clear();
      verified.put(token, new Verified(claims,
          jwt.getExpiresAtAsInstant() == null ? Long.MAX_VALUE : jwt.getExpiresAtAsInstant().toEpochMilli()));
      return Optional.of(claims);
    } catch (JWTVerificationException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** The claims of a {@code Authorization: Bearer <jwt>} header value, or empty. */
  public Optional<Claims> verifyBearer(String header) {
    if (header == null) return Optional.empty();
    String h = header.trim();
    if (h.length() < 8 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return Optional.empty();
    return verify(h.substring(7).trim());
  }

  public String issue(String role, String systemId, String userId, Duration ttl) {
    JWTCreator.Builder b = JWT.create().withClaim("role", role).withIssuedAt(Instant.now());
    if (systemId != null) b.withClaim("systemId", systemId);
    if (userId != null) b.withClaim("userId", userId);
    if (ttl != null) b.withExpiresAt(Instant.now().plus(ttl));
    return b.sign(algorithm);
  }

  private static String text(Claim c) {
    return c == null || c.isMissing() || c.isNull() ? null : c.asString();
  }
}

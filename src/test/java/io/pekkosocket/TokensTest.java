package io.pekkosocket;

import static org.junit.jupiter.api.Assertions.*;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.algorithms.Algorithm;
import io.pekkosocket.auth.KeyRing;
import io.pekkosocket.auth.Tokens;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokensTest {
  final Tokens tokens = new Tokens("unit-test-secret-0123456789abcdef0123".getBytes(StandardCharsets.UTF_8));

  @Test
  void aCachedTokenStillExpires() {
    String token = tokens.issue(Tokens.SYSTEM, "s", "u", Duration.ofMillis(1500));
    Tokens.Claims claims = tokens.verify(token).orElseThrow();
    assertEquals("s", claims.systemId());
    assertEquals("u", claims.userId());
    assertTrue(tokens.verify(token).isPresent(), "answered from the cache");
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (tokens.verify(token).isPresent() && System.nanoTime() < deadline) Thread.onSpinWait();
    assertTrue(tokens.verify(token).isEmpty(), "expired, although it was cached");
  }

  @Test
  void rightsFollowTheRole() {
    Tokens.Claims admin = tokens.verify(tokens.issue(Tokens.ADMIN, null, null, null)).orElseThrow();
    Tokens.Claims system = tokens.verify(tokens.issue(Tokens.SYSTEM, "a", null, null)).orElseThrow();
    assertTrue(admin.mayActOn("anything"));
    assertTrue(system.mayActOn("a"));
    assertFalse(system.mayActOn("b"));
    assertTrue(tokens.verifyBearer("bearer " + tokens.issue(Tokens.ADMIN, null, null, null)).isPresent());
    assertTrue(tokens.verifyBearer("Bearer").isEmpty());
  }

  /** A clock the test moves by hand. */
  static final class HandClock extends Clock {
    final AtomicLong millis = new AtomicLong(Instant.parse("2026-12-01T00:00:00Z").toEpochMilli());

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }
  }

  static String signed(String key, String kid, Instant iat, Instant nbf, Instant exp) {
    JWTCreator.Builder b = JWT.create().withClaim("role", Tokens.SYSTEM).withClaim("systemId", "s");
    if (kid != null) b.withKeyId(kid);
    if (iat != null) b.withIssuedAt(iat);
    if (nbf != null) b.withNotBefore(nbf);
    if (exp != null) b.withExpiresAt(exp);
    return b.sign(Algorithm.HMAC256(key.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void iatAndNbfGetTheLeewayExpDoesNot() {
    String secret = "unit-test-secret-0123456789abcdef0123";
    HandClock clock = new HandClock();
    Tokens t = new Tokens(secret.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(30), new KeyRing(), clock);
    Instant now = clock.instant();
    assertTrue(t.verify(signed(secret, null, now.plusSeconds(2), null, null)).isPresent(), "iat 2 s ahead");
    assertTrue(t.verify(signed(secret, null, now.plusSeconds(30), null, null)).isPresent(), "iat 30 s ahead");
    assertTrue(t.verify(signed(secret, null, now.plusSeconds(31), null, null)).isEmpty(), "iat 31 s ahead");
    assertTrue(t.verify(signed(secret, null, now.plusSeconds(60), null, null)).isEmpty(), "iat 60 s ahead");
    assertTrue(t.verify(signed(secret, null, null, now.plusSeconds(2), null)).isPresent(), "nbf 2 s ahead");
    assertTrue(t.verify(signed(secret, null, null, now.plusSeconds(60), null)).isEmpty(), "nbf 60 s ahead");
    assertTrue(t.verify(signed(secret, null, now, null, now.minusSeconds(1))).isEmpty(), "exp 1 s ago");
    assertTrue(t.verify(signed(secret, null, now, null, now.plusSeconds(1))).isPresent(), "exp in 1 s");
    Tokens strict = new Tokens(secret.getBytes(StandardCharsets.UTF_8), Duration.ZERO, new KeyRing(), clock);
    assertTrue(strict.verify(signed(secret, null, now.plusSeconds(2), null, null)).isEmpty(), "leeway 0");
  }

  @Test
  void thePreviousKeyEndsExactlyWithItsGraceCachedOrNot() {
    HandClock clock = new HandClock();
    KeyRing ring = new KeyRing();
    ring.set("s", "first-key", null, 0);
    Tokens t = new Tokens("server-secret-0123456789abcdef0123".getBytes(StandardCharsets.UTF_8),
        Duration.ofSeconds(30), ring, clock);
    String cached = signed("first-key", "s", null, null, null);
    Tokens.Claims claims = t.verify(cached).orElseThrow();
    assertEquals("s", claims.systemId());
    assertEquals("s", claims.kid());
    long until = clock.millis() + 1000;
    ring.set("s", "second-key", "first-key", until);
    clock.millis.set(until - 1);
    assertTrue(t.verify(cached).isPresent(), "1 ms before the grace ends");
    assertTrue(t.verify(signed("first-key", "s", null, null, clock.instant().plusSeconds(60))).isPresent());
    clock.millis.set(until);
    assertTrue(t.verify(cached).isEmpty(), "cached, but the grace has ended");
    assertTrue(t.verify(signed("first-key", "s", null, null, clock.instant().plusSeconds(61))).isEmpty());
    assertTrue(t.verify(signed("second-key", "s", null, null, null)).isPresent());
    ring.set("s", "third-key", "second-key", clock.millis() + 1000);
    assertTrue(t.verify(cached).isEmpty(), "an older key never comes back");
  }

  @Test
  void aKidTokenMustBeASystemOrClientTokenOfItsKid() {
    KeyRing ring = new KeyRing();
    ring.set("s", "key-of-s", null, 0);
    Tokens t = new Tokens("server-secret-0123456789abcdef0123".getBytes(StandardCharsets.UTF_8),
        Duration.ofSeconds(30), ring, Clock.systemUTC());
    Algorithm key = Algorithm.HMAC256("key-of-s".getBytes(StandardCharsets.UTF_8));
    assertTrue(t.verify(JWT.create().withKeyId("s").withClaim("role", "client").withClaim("systemId", "s")
        .sign(key)).isPresent());
    assertTrue(t.verify(JWT.create().withKeyId("s").withClaim("role", "admin").sign(key)).isEmpty());
    assertTrue(t.verify(JWT.create().withKeyId("s").withClaim("role", "admin").withClaim("systemId", "s")
        .sign(key)).isEmpty());
    assertTrue(t.verify(JWT.create().withKeyId("s").withClaim("role", "system").withClaim("systemId", "t")
        .sign(key)).isEmpty());
    assertTrue(t.verify(JWT.create().withKeyId("s").withClaim("role", "system").sign(key)).isEmpty());
    assertTrue(t.verify(JWT.create().withKeyId("t").withClaim("role", "system").withClaim("systemId", "t")
        .sign(key)).isEmpty());
    assertTrue(t.verify(JWT.create().withKeyId("s").withClaim("role", "system").withClaim("systemId", "s")
        .sign(Algorithm.HMAC256("server-secret-0123456789abcdef0123".getBytes(StandardCharsets.UTF_8)))).isEmpty(),
        "a kid token is never verified with the server secret");
  }
}

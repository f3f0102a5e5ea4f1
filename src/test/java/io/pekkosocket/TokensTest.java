package io.pekkosocket;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.auth.Tokens;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
}

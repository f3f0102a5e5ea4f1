package io.pekkosocket.auth;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class ResumeTokensTest {
  private final ResumeTokens tokens = new ResumeTokens();

  @Test
  void aTokenVerifiesForItsSystemAndNamesItsClientAndNonce() {
    String nonce = ResumeTokens.newNonce();
    String token = tokens.sign("sys", "n1.abc", nonce);
    assertEquals(Optional.of(new ResumeTokens.Claim("n1.abc", nonce)), tokens.verify(token, "sys"));
    assertTrue(token.matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+"), "URL-safe: " + token);
  }

  @Test
  void anythingElseDoesNotVerify() {
    String token = tokens.sign("sys", "n1.abc", ResumeTokens.newNonce());
    assertTrue(tokens.verify(token, "other").isEmpty(), "another system");
    assertTrue(new ResumeTokens().verify(token, "sys").isEmpty(), "another process's key");
    String[] parts = token.split("\\.");
    String otherClient = tokens.sign("sys", "n1.xyz", ResumeTokens.newNonce()).split("\\.")[0];
    assertTrue(tokens.verify(otherClient + "." + parts[1], "sys").isEmpty(), "a payload moved under another MAC");
    // a changed MAC character (the first: the last one of 43 also carries two padding bits, which decode to nothing)
    int at = token.indexOf('.') + 1;
    char c = token.charAt(at);
    String tampered = token.substring(0, at) + (c == 'A' ? 'B' : 'A') + token.substring(at + 1);
    assertTrue(tokens.verify(tampered, "sys").isEmpty());
    for (String junk : new String[] {"", ".", "a.b.c", "!!.??", "x".repeat(600), parts[0]}) {
      assertTrue(tokens.verify(junk, "sys").isEmpty(), junk);
    }
    assertTrue(tokens.verify(null, "sys").isEmpty());
  }

  @Test
  void noncesDoNotRepeat() {
    assertNotEquals(ResumeTokens.newNonce(), ResumeTokens.newNonce());
  }
}

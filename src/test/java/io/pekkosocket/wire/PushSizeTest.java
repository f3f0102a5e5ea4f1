package io.pekkosocket.wire;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The push sizes the API measures before a fan-out (issue 8, M3): the bound holds and the exact size is exact. */
class PushSizeTest {
  static final List<FrameEncoder> ENCODERS = List.of(new FrameEncoder(true, true), new FrameEncoder(false, false),
      new FrameEncoder(true, false), new FrameEncoder(false, true));
  /** Characters that grow the most or are encoded specially. */
  static final String NASTY = "<>&\"\\\n\r\t\b\f\u0000\u001f\u2028\u2029\u00e9\u4e2d\ud83d\ude00\ud800\udc00x";

  static void check(Push p) {
    for (FrameEncoder e : ENCODERS) {
      long actual = e.push("0123456789abcdef", p).getBytes(StandardCharsets.UTF_8).length;
      assertEquals(actual, e.pushBytes(p), p.toString());
      assertTrue(FrameEncoder.pushBytesAtMost(p) >= actual, p.toString());
    }
  }

  @Test
  void exactSizeAndBoundForEveryKindOfCharacter() {
    Random random = new Random(42);
    for (int i = 0; i < 2000; i++) {
      StringBuilder sb = new StringBuilder();
      int len = random.nextInt(40);
      for (int j = 0; j < len; j++) {
        sb.append(random.nextInt(3) == 0 ? (char) random.nextInt(0x10000) : NASTY.charAt(random.nextInt(NASTY.length())));
      }
      String s = sb.toString();
      check(new Push(s, random.nextLong(), s, new Payload.Text(s)));
      check(new Push("", Long.MIN_VALUE, "", new Payload.Raw("{\"k\":" + JsonText.quote(s, false) + "}")));
    }
    check(new Push("", 0, "", Payload.EMPTY));
    check(new Push("<".repeat(1000), Long.MIN_VALUE, "&".repeat(1000), new Payload.Text(">".repeat(1000))));
    check(new Push("", 0, "", new Payload.Text("\ud800".repeat(100)))); // lone surrogates
  }

  @Test
  void theBoundIsTightEnoughToSkipEncodingOrdinaryPushes() {
    // 600,000 characters of any kind stay under 4 MiB: such pushes are never encoded twice
    Push p = new Push("u", 1, "m", new Payload.Text("x".repeat(600_000)));
    assertTrue(FrameEncoder.pushBytesAtMost(p) <= 4L * 1024 * 1024);
  }
}

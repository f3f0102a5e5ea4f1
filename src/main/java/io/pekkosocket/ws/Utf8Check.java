package io.pekkosocket.ws;

/**
 * Incremental UTF-8 validation (RFC 3629, the rules RFC 6455 §8.1 asks for): a text message may arrive in any
 * number of frames and chunks, and a sequence may be split anywhere. Rejects overlong forms, surrogates and code
 * points above U+10FFFF as soon as the offending byte arrives. One instance per connection; no allocation.
 */
final class Utf8Check {
  private int needed; // continuation bytes still expected for the current sequence
  private int lower = 0x80; // allowed range of the next continuation byte
  private int upper = 0xBF;

  /** Starts a new message. */
  void reset() {
    needed = 0;
    lower = 0x80;
    upper = 0xBF;
  }

  /** Feeds one (unmasked) byte; false as soon as the text so far cannot be valid UTF-8. */
  boolean accept(int b) {
    if (needed == 0) {
      if (b < 0x80) return true;
      if (b >= 0xC2 && b <= 0xDF) {
        needed = 1;
      } else if (b == 0xE0) {
        needed = 2;
        lower = 0xA0; // no overlong 3-byte forms
      } else if (b == 0xED) {
        needed = 2;
        upper = 0x9F; // no surrogates
      } else if (b >= 0xE1 && b <= 0xEF) {
        needed = 2;
      } else if (b == 0xF0) {
        needed = 3;
        lower = 0x90; // no overlong 4-byte forms
      } else if (b >= 0xF1 && b <= 0xF3) {
        needed = 3;
      } else if (b == 0xF4) {
        needed = 3;
        upper = 0x8F; // nothing above U+10FFFF
      } else {
        return false; // 0x80-0xC1 as a lead byte, or 0xF5-0xFF
      }
      return true;
    }
    if (b < lower || b > upper) return false;
    lower = 0x80;
    upper = 0xBF;
    needed--;
    return true;
  }

  /** True when the text ends on a sequence boundary. */
  boolean complete() {
    return needed == 0;
  }
}

package io.pekkosocket.registry;

/**
 * What a systemId may be: 1-128 printable characters, no whitespace at either end (Pekko trims header values, so a
 * padded id could never be named in a {@code SystemId} header), and no invisible Unicode format characters
 * (category Cf: U+200B, U+FEFF, U+202E …), which would allow look-alike tenant names. Checked at {@code register}
 * and for the systems pre-registered in the configuration.
 */
public final class SystemIds {
  public static final String BAD_SHAPE = "systemId must be 1-128 printable characters";
  public static final String SURROUNDING_WHITESPACE = "systemId must not start or end with whitespace";
  public static final String FORMAT_CHARACTER = "systemId must not contain invisible format characters (Unicode Cf)";

  private SystemIds() {}

  /** Why {@code systemId} cannot be registered, or null when it can. */
  public static String problem(String systemId) {
    if (systemId.isEmpty() || systemId.length() > 128 || !systemId.codePoints().allMatch(SystemIds::printable)) {
      return BAD_SHAPE;
    }
    if (blank(systemId.codePointAt(0)) || blank(systemId.codePointBefore(systemId.length()))) {
      return SURROUNDING_WHITESPACE;
    }
    if (systemId.codePoints().anyMatch(cp -> Character.getType(cp) == Character.FORMAT)) return FORMAT_CHARACTER;
    return null;
  }

  private static boolean printable(int cp) {
    return !Character.isISOControl(cp) && Character.isDefined(cp) && Character.getType(cp) != Character.SURROGATE;
  }

  /** Java whitespace and the Unicode space separators (no-break space, ideographic space …). */
  private static boolean blank(int cp) {
    return Character.isWhitespace(cp) || Character.isSpaceChar(cp);
  }
}

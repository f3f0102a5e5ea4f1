package io.pekkosocket.ws;

import java.nio.charset.StandardCharsets;
import org.apache.pekko.http.impl.engine.ws.FrameStart;
import org.apache.pekko.util.ByteString;

/**
 * One server-to-client text frame, encoded once and shared by every recipient: what the actors hand to an
 * {@link OutboundQueue}. Opaque on purpose: Pekko HTTP's internal frame type stays inside {@code ws/}. Immutable.
 */
public final class Frame {
  final FrameStart start;

  private Frame(FrameStart start) {
    this.start = start;
  }

  /** The frame of one JSON text (as {@code wire/FrameEncoder} renders it). */
  public static Frame text(String text) {
    return new Frame(WsFrames.text(text));
  }

  /** Payload bytes: what the frame counts against a queue's byte limit. */
  public int size() {
    return start.data().length();
  }

  /**
   * The frame's messageId (pushes and 1001/1002: {@code {"messageId":"<16 hex>",…}}), or "" for a frame without one
   * (the welcome, a refusal). Read from the bytes, nothing decoded.
   */
  public String messageId() {
    if (!hasMessageId()) return "";
    int from = PerRecipient.PREFIX.length();
    return start.data().slice(from, from + ID_LENGTH).utf8String();
  }

  private static final int ID_LENGTH = 16;

  /** Whether the frame carries a messageId (a push or a notice; not the welcome), decided from its first bytes. */
  public boolean hasMessageId() {
    ByteString d = start.data();
    int from = PerRecipient.PREFIX.length();
    if (d.length() < from + ID_LENGTH + 1 || d.apply(from + ID_LENGTH) != '"') return false;
    for (int i = 0; i < from; i++) {
      if (d.apply(i) != PerRecipient.PREFIX.charAt(i)) return false;
    }
    return true;
  }

  /** The frame's text (tests and debugging; never logged at info). */
  public String text() {
    return start.data().utf8String();
  }

  /**
   * The frames of one push to many recipients that each get their own messageId ({@code send_to_clients}): the
   * frame is encoded once, and each recipient's frame shares its bytes, with only the 16-character messageId
   * spliced in. A push of a few MiB to thousands of recipients costs one copy, not one per recipient.
   */
  public static final class PerRecipient {
    private static final String PREFIX = "{\"messageId\":\"";
    private final ByteString head;
    private final ByteString tail;
    private final int idLength;

    /** {@code encoded} is the push's text with {@code placeholderId} as its messageId. */
    public PerRecipient(String encoded, String placeholderId) {
      if (!encoded.startsWith(PREFIX + placeholderId + "\"")) {
        throw new IllegalArgumentException("not a push frame with the placeholder messageId");
      }
      ByteString all = ByteString.fromArrayUnsafe(encoded.getBytes(StandardCharsets.UTF_8));
      head = all.take(PREFIX.length());
      tail = all.drop(PREFIX.length() + placeholderId.length());
      idLength = placeholderId.length();
    }

    /** The frame for one recipient; {@code messageId} has the placeholder's length (ASCII). */
    public Frame frame(String messageId) {
      if (messageId.length() != idLength) throw new IllegalArgumentException("messageId of another length");
      return new Frame(WsFrames.text(head.concat(ByteString.fromString(messageId, StandardCharsets.US_ASCII))
          .concat(tail)));
    }
  }
}

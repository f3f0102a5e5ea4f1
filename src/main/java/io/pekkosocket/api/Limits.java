package io.pekkosocket.api;

import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.wire.Push;

/**
 * The configured limits a request is checked against ({@link Rules}).
 *
 * @param outboundBytes a connection's whole outbound queue, in bytes: a push whose frame is larger is refused
 * @param encoder the server's frame encoder (escaping can make one character six bytes)
 */
public record Limits(int maxGroupName, int maxUserField, int maxClientIdsPerSend, long outboundBytes,
    FrameEncoder encoder, int maxBatch) {

  /**
   * A push whose frame, once encoded, is larger than a connection's whole outbound queue could never be accepted by
   * anyone. Most pushes are decided by a bound, without encoding.
   */
  boolean tooLarge(Push push) {
    return FrameEncoder.pushBytesAtMost(push) > outboundBytes && encoder.pushBytes(push) > outboundBytes;
  }
}

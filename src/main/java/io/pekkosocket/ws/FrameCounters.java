package io.pekkosocket.ws;

/** What an {@link OutboundQueue} and its stage report about frames. Implementations must be cheap and thread-safe. */
public interface FrameCounters {
  /** Why accepted frames were never written: the fixed label set of {@code socket_frames_discarded_total}. */
  enum Discard {
    /** The queue overflowed (1013) and the flush of what it held did not finish within the close timeout. */
    OVERFLOW,
    /** The heartbeat closed a silent connection (1001). */
    HEARTBEAT,
    /** The client closed the connection (its close frame ends the session at once). */
    PEER_CLOSE,
    /** The TCP connection ended without a close handshake. */
    RESET,
    /** The client broke the protocol (1002, 1007, 1008, 1009). */
    PROTOCOL,
    /** A server close (1000, 1011, 1012) flushed what it could within the close timeout. */
    CLOSE_TIMEOUT;

    /** The metric label. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A frame was accepted into a queue. */
  void accepted();

  /** A frame was refused (queue full or connection closing). */
  void refused();

  /** A frame was written to a socket. */
  void written();

  /** {@code frames} accepted frames were thrown away unwritten. */
  default void discarded(Discard reason, int frames) {}

  FrameCounters NONE = new FrameCounters() {
    @Override
    public void accepted() {}

    @Override
    public void refused() {}

    @Override
    public void written() {}
  };
}

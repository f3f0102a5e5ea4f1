package io.pekkosocket.ws;

/** What an {@link Outbox} and its stage report about frames. Implementations must be cheap and thread-safe. */
public interface FrameCounters {
  /** A frame was accepted into a queue. */
  void accepted();

  /** A frame was refused (queue full or connection closing). */
  void refused();

  /** A frame was written to a socket. */
  void written();

  FrameCounters NONE = new FrameCounters() {
    @Override
    public void accepted() {}

    @Override
    public void refused() {}

    @Override
    public void written() {}
  };
}

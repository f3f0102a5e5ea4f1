package io.pekkosocket.actors;

import io.pekkosocket.ws.Outbox;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import io.pekkosocket.ws.Frame;

/** Outboxes without a socket: the test reads what the actors queued, and sees close requests. */
final class TestOutboxes {
  static final class Recorded implements Outbox.Wakeups {
    final AtomicInteger closedWith = new AtomicInteger(-1);

    @Override
    public void frameAvailable() {}

    @Override
    public void closeRequested(int code, String reason, boolean flush) {
      closedWith.set(code);
    }
  }

  static Outbox outbox(String clientId) {
    return new Outbox(clientId, 1024, 4 * 1024 * 1024, new Recorded(), io.pekkosocket.ws.FrameCounters.NONE);
  }

  static Outbox outbox(String clientId, Recorded r, int maxFrames) {
    return new Outbox(clientId, maxFrames, 4 * 1024 * 1024, r, io.pekkosocket.ws.FrameCounters.NONE);
  }

  /** Every frame queued so far, as text. */
  static List<String> taken(Outbox o) {
    List<String> out = new ArrayList<>();
    for (Frame f = o.take(); f != null; f = o.take()) {
      out.add(f.text());
    }
    return out;
  }

  private TestOutboxes() {}
}

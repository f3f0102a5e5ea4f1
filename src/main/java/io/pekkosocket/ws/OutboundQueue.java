package io.pekkosocket.ws;

import io.pekkosocket.wire.CloseCode;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The thread-safe handle of one connection's bounded outbound queue. Actors offer frames here and learn at once
 * whether the queue accepted them (the {@code delivered} counts of PROTOCOL.md). A frame that would overflow the
 * limits (frames or bytes, whichever is reached first) is refused and the connection is closed with 1013, after the
 * frames already accepted: a slow consumer never holds more than the limits nor delays anyone else.
 *
 * <p>The queue belongs to the connection's {@code ClientActor}, which makes it (and queues the welcome) before the
 * client can be sent anything; a socket's {@link ConnectionStage} attaches to it when it starts and is the only
 * consumer. Frames and a close request that come before the stage attaches wait for it. The stage is woken once
 * whenever the queue goes from empty to non-empty, so a burst costs one wake-up, not one per frame.
 */
public final class OutboundQueue {

  /** How the queue wakes its consumer (the connection's stage). Called from producer threads; never blocks. */
  public interface Wakeups {
    void frameAvailable();

    void closeRequested(int code, String reason, boolean flush);
  }

  private final int maxFrames;
  private final long maxBytes;
  private final ConcurrentLinkedQueue<Frame> frames = new ConcurrentLinkedQueue<>();
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();
  private volatile boolean closed;
  /** Frames the stage holds outside the queue that count against the same limits (the one pending pong). */
  private volatile int reservedFrames;
  /** The attached stage; null until one attaches. */
  private volatile Wakeups wakeups;
  /** A close asked for before a stage attached: handed to it when it does. */
  private CloseRequest pendingClose;
  private final FrameCounters counters;

  private record CloseRequest(int code, String reason, boolean flush) {}

  public OutboundQueue(int maxFrames, long maxBytes, FrameCounters counters) {
    this.counters = counters;
    this.maxFrames = maxFrames;
    this.maxBytes = maxBytes;
  }

  /**
   * The consumer (a socket's stage) of this queue from now on. Frames queued before are taken when it first pulls;
   * a close asked for before is handed over at once.
   */
  public synchronized void attach(Wakeups stage) {
    if (wakeups != null) throw new IllegalStateException("a stage is attached already");
    wakeups = stage;
    if (pendingClose != null) stage.closeRequested(pendingClose.code(), pendingClose.reason(), pendingClose.flush());
    pendingClose = null;
  }

  /**
   * Queues a frame for this connection. Returns true when the queue accepted it; false when the connection is
   * closing or closed, or when the frame overflowed the queue (which closes the connection with 1013).
   */
  public boolean offer(Frame frame) {
    if (closed) {
      counters.refused();
      return false;
    }
    long size = frame.size();
    if (bytes.addAndGet(size) > maxBytes || pending.get() + reservedFrames >= maxFrames) {
      bytes.addAndGet(-size);
      counters.refused();
      overflowed();
      return false;
    }
    frames.add(frame);
    counters.accepted();
    if (pending.getAndIncrement() == 0) {
      Wakeups stage = wakeups;
      if (stage != null) stage.frameAvailable(); // else the stage takes it on its first pull
    }
    return true;
  }

  /**
   * The queue is full: the connection closes with 1013. The frames it has already accepted (each one counted in a
   * {@code delivered}) are still written first, within the close timeout.
   */
  private void overflowed() {
    close(CloseCode.TRY_AGAIN_LATER, "slow consumer", true);
  }

  /**
   * Stage side: counts a frame the stage holds itself (a pong) against this queue's limits. False, and the
   * connection closes with 1013, when it does not fit: a peer that pings without reading is a slow consumer too.
   */
  boolean reserve(long size) {
    if (bytes.addAndGet(size) > maxBytes || pending.get() + reservedFrames >= maxFrames) {
      bytes.addAndGet(-size);
      overflowed();
      return false;
    }
    reservedFrames++;
    return true;
  }

  /** Stage side: a reserved frame was written or dropped. */
  void release(long size) {
    bytes.addAndGet(-size);
    reservedFrames--;
  }

  /**
   * Asks the connection to close with the given code. With {@code flush} the frames already accepted are written
   * first; without it they are dropped. Later offers are refused. Only the first request counts.
   */
  public synchronized void close(int code, String reason, boolean flush) {
    if (closed) return;
    closed = true;
    if (wakeups != null) wakeups.closeRequested(code, reason, flush);
    else pendingClose = new CloseRequest(code, reason, flush);
  }

  public boolean isClosed() {
    return closed;
  }

  /** Frames waiting in the queue right now. */
  public int depth() {
    return Math.max(0, pending.get());
  }


  /** Consumer side: the next frame to write, or null. */
  public Frame take() {
    Frame f = frames.poll();
    if (f != null) {
      bytes.addAndGet(-f.size());
      pending.decrementAndGet();
    }
    return f;
  }

  /** Stage side: refuse everything from now on (the stage has decided to close); queued frames stay. */
  void seal() {
    closed = true;
  }

  /** Stage side: refuse everything from now on and let the queue go; returns how many queued frames were dropped. */
  int discard() {
    closed = true;
    int dropped = 0;
    while (take() != null) dropped++;
    return dropped;
  }
}

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

    /** A new socket has taken the session over: this consumer has been detached and must let its socket go. */
    default void superseded() {}
  }

  private final int maxFrames;
  private final long maxBytes;
  private final ConcurrentLinkedQueue<Frame> frames = new ConcurrentLinkedQueue<>();
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();
  private volatile boolean closed;
  /** Frames the stage holds outside the queue that count against the same limits (the one pending pong). */
  private final AtomicInteger reservedFrames = new AtomicInteger();
  /** The attached stage; null until one attaches. */
  private volatile Wakeups wakeups;
  /** A close asked for before a stage attached: handed to it when it does. */
  private CloseRequest pendingClose;
  private final FrameCounters counters;
  /** A resumable session's written frames, kept for a replay; null for a queue that is not resumable. */
  private final Kept kept;
  /** Told when the queue is asked to close while no stage is attached (a detached session overflowed). */
  private volatile Runnable closedUnattached;

  private record CloseRequest(int code, String reason, boolean flush) {}

  public OutboundQueue(int maxFrames, long maxBytes, FrameCounters counters) {
    this(maxFrames, maxBytes, counters, 0);
  }

  /**
   * @param keepFrames when above 0 the queue is a resumable session's: it keeps the last {@code keepFrames} frames
   *     its stages took (at most {@code maxBytes} of them), so that a new socket can be given everything after the
   *     client's last messageId ({@link #takeOver}), and a stage whose socket is lost lets go of it instead of
   *     discarding it
   */
  public OutboundQueue(int maxFrames, long maxBytes, FrameCounters counters, int keepFrames) {
    this.counters = counters;
    this.maxFrames = maxFrames;
    this.maxBytes = maxBytes;
    this.kept = keepFrames > 0 ? new Kept(keepFrames, maxBytes) : null;
  }

  public boolean resumable() {
    return kept != null;
  }

  /** Calls {@code r} when the queue is asked to close while no stage is attached. */
  public void whenClosedUnattached(Runnable r) {
    closedUnattached = r;
  }

  /**
   * The consumer (a socket's stage) of this queue from now on. Frames queued before are taken when it first pulls;
   * a close asked for before is handed over at once.
   */
  public synchronized void attach(Wakeups stage) {
    if (wakeups != null) throw new IllegalStateException("a stage is attached already");
    wakeups = stage;
    if (pendingClose != null) {
      stage.closeRequested(pendingClose.code(), pendingClose.reason(), pendingClose.flush());
    } else if (closed) { // its session ended before this socket came: nobody would ever write to it
      stage.closeRequested(CloseCode.INTERNAL_ERROR, "session ended", false);
    }
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
    if (bytes.addAndGet(size) > maxBytes || pending.get() + reservedFrames.get() >= maxFrames) {
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
    if (bytes.addAndGet(size) > maxBytes || pending.get() + reservedFrames.get() >= maxFrames) {
      bytes.addAndGet(-size);
      overflowed();
      return false;
    }
    reservedFrames.incrementAndGet();
    return true;
  }

  /** Stage side: a reserved frame was written or dropped. */
  void release(long size) {
    bytes.addAndGet(-size);
    reservedFrames.decrementAndGet();
  }

  /**
   * Asks the connection to close with the given code. With {@code flush} the frames already accepted are written
   * first; without it they are dropped. Later offers are refused. Only the first request counts.
   */
  public synchronized void close(int code, String reason, boolean flush) {
    if (closed) return;
    closed = true;
    if (wakeups != null) {
      wakeups.closeRequested(code, reason, flush);
    } else {
      pendingClose = new CloseRequest(code, reason, flush);
      Runnable r = closedUnattached;
      if (r != null) r.run();
    }
  }

  /**
   * Stage side: the stage lets go of a resumable queue whose socket was lost; the queue keeps its frames and keeps
   * accepting new ones for the session, until its owner resumes it or ends it ({@link #end}).
   */
  synchronized void detach(Wakeups consumer) {
    if (wakeups == consumer) wakeups = null;
  }

  /**
   * Owner side: a new socket takes the session over from {@code lastMessageId} ("" when the client processed
   * nothing after its welcome). Returns the kept frames after it, in order, and detaches the stage attached now
   * (told {@link Wakeups#superseded}), so that the next stage to attach writes those frames, then the queue; the
   * kept frames up to {@code lastMessageId} are forgotten. Returns null, changing nothing, when the kept frames no
   * longer reach back to it (or it was never sent here).
   */
  public synchronized java.util.List<Frame> takeOver(String lastMessageId) {
    if (kept == null) return null;
    java.util.List<Frame> replay = kept.after(lastMessageId);
    if (replay == null) return null;
    Wakeups old = wakeups;
    wakeups = null;
    if (old != null) old.superseded();
    return replay;
  }

  /** Owner side: the session is over: refuse everything from now on and drop what is queued (counted). */
  public synchronized void end(FrameCounters.Discard why) {
    int dropped = discard();
    if (dropped > 0) counters.discarded(why, dropped);
    // a stage attached now came later than its session could wait for it: its socket is closed too
    if (wakeups != null) wakeups.closeRequested(CloseCode.INTERNAL_ERROR, "session ended", false);
  }

  public boolean isClosed() {
    return closed;
  }

  /** Frames waiting in the queue right now. */
  public int depth() {
    return Math.max(0, pending.get());
  }


  /**
   * Stage side: the next frame to write, or null; always null for a stage no longer attached. A resumable queue
   * keeps what it hands out.
   */
  Frame take(Wakeups consumer) {
    if (kept == null) return take();
    synchronized (this) {
      if (wakeups != consumer) return null;
      Frame f = take();
      if (f != null && f.hasMessageId()) kept.add(f); // not the welcome: a resume writes a welcome of its own
      return f;
    }
  }

  /** The next frame, or null (tests and benchmarks play the consumer with this). */
  public Frame take() {
    Frame f = frames.poll();
    if (f != null) {
      bytes.addAndGet(-f.size());
      pending.decrementAndGet();
    }
    return f;
  }

  /**
   * Stage side: {@link #seal} / {@link #discard}, for {@code consumer} only while it is attached: a resumable queue
   * may have been taken over by another stage meanwhile, and is no longer this one's to close.
   */
  void seal(Wakeups consumer) {
    if (kept == null) {
      seal();
      return;
    }
    synchronized (this) {
      if (wakeups == consumer) seal();
    }
  }

  int discard(Wakeups consumer) {
    if (kept == null) return discard();
    synchronized (this) {
      return wakeups == consumer ? discard() : 0;
    }
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

  /**
   * The frames a resumable session's stages took, oldest first: at most {@code maxFrames} and {@code maxBytes}.
   * Guarded by the queue's lock. Frames are the shared encoded objects, not copies.
   */
  private static final class Kept {
    private final java.util.ArrayDeque<Frame> frames = new java.util.ArrayDeque<>();
    private final int maxFrames;
    private final long maxBytes;
    private long bytes;
    /** A frame fell out since the client's last acknowledged one: "everything after the welcome" is gone. */
    private boolean lost;

    Kept(int maxFrames, long maxBytes) {
      this.maxFrames = maxFrames;
      this.maxBytes = maxBytes;
    }

    void add(Frame f) {
      frames.addLast(f);
      bytes += f.size();
      while (frames.size() > maxFrames || bytes > maxBytes) {
        bytes -= frames.removeFirst().size();
        lost = true;
      }
    }

    /** The frames after {@code last} (all of them when it is ""), forgetting it and those before; null if gone. */
    java.util.List<Frame> after(String last) {
      int skip;
      if (last.isEmpty()) {
        if (lost) return null;
        skip = 0;
      } else {
        skip = -1;
        int i = 0;
        for (Frame f : frames) {
          i++;
          if (f.messageId().equals(last)) skip = i; // the latest match: ids are random, a repeat is improbable
        }
        if (skip < 0) return null;
      }
      for (int i = 0; i < skip; i++) bytes -= frames.removeFirst().size();
      lost = false;
      return java.util.List.copyOf(frames);
    }
  }
}

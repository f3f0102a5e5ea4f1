package io.pekkosocket.bench;

import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.wire.Ids;
import io.pekkosocket.wire.Payload;
import io.pekkosocket.wire.Push;
import io.pekkosocket.ws.FrameCounters;
import io.pekkosocket.ws.OutboundQueue;
import io.pekkosocket.ws.Frame;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The hot path of a group push: encode the envelope once, then offer the same frame to every member's queue (and
 * take it out again, as each connection's stage does). Divide the score by {@code members} for the cost per
 * delivered frame. Run: see docs/BENCHMARKS.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class FanOutBenchmark {
  @Param({"1000"})
  int members;

  private OutboundQueue[] queues;
  private final FrameEncoder encoder = new FrameEncoder(true, true);
  private final Push push = new Push("user-1", 200, "chat",
      new Payload.Text("{\"ts\":1764150000000,\"text\":\"hello room, this is a 100-byte message....\"}"));

  @Setup
  public void setup() {
    OutboundQueue.Wakeups quiet = new OutboundQueue.Wakeups() {
      @Override
      public void frameAvailable() {}

      @Override
      public void closeRequested(int code, String reason, boolean flush) {}
    };
    queues = new OutboundQueue[members];
    for (int i = 0; i < members; i++) {
      queues[i] = new OutboundQueue(1024, 4 << 20, FrameCounters.NONE);
      queues[i].attach(quiet);
    }
  }

  /** Encoding only: one push envelope to one shared frame. */
  @Benchmark
  public Frame encode() {
    return Frame.text(encoder.push(Ids.newMessageId(), push));
  }

  /** Encode once, offer to every member, and take it out of every queue. */
  @Benchmark
  public int encodeAndFanOut() {
    Frame frame = Frame.text(encoder.push(Ids.newMessageId(), push));
    int delivered = 0;
    for (OutboundQueue o : queues) {
      if (o.offer(frame)) delivered++;
    }
    for (OutboundQueue o : queues) o.take();
    return delivered;
  }
}

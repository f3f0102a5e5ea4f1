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
 * take it out again, as each connection's stage does). Divide the score by {@code size} for the cost per
 * delivered frame. The members are held as a GroupActor holds them. Run: see docs/BENCHMARKS.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class FanOutBenchmark {
  @Param({"1000"})
  int size;

  /** As a GroupActor holds its members: clientId → queue, in join order. */
  private final java.util.Map<String, OutboundQueue> members = new java.util.LinkedHashMap<>();
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
    for (int i = 0; i < size; i++) {
      OutboundQueue q = new OutboundQueue(1024, 4 << 20, FrameCounters.NONE);
      q.attach(quiet);
      members.put(Ids.newClientId("n1"), q);
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
    for (OutboundQueue q : members.values()) {
      if (q.offer(frame)) delivered++;
    }
    for (OutboundQueue q : members.values()) q.take();
    return delivered;
  }
}

package io.pekkosocket.ops;

import io.pekkosocket.api.Operation;
import io.pekkosocket.wire.CloseCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pekkosocket.ws.FrameCounters;
import io.pekkosocket.ws.OutboundQueue;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server's Prometheus metrics (Micrometer), one instance per server, scraped at {@code GET /metrics}. Labels
 * are bounded: close codes, operations, statuses and handshake-failure reasons come from fixed sets; nothing is
 * labelled per client, group or system.
 */
public final class Metrics implements FrameCounters {
  private static final Set<Integer> CLOSE_CODES = Set.of(1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009,
      1010, 1011, 1012, 1013);

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Set<OutboundQueue> live = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final AtomicInteger systems = new AtomicInteger();
  private final AtomicInteger groups = new AtomicInteger();
  private final Counter connects;
  private final Counter framesAccepted;
  private final Counter framesRefused;
  private final Counter framesWritten;
  private final Counter slowConsumerCloses;
  private final Counter apiDirect;

  public Metrics() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    Gauge.builder("socket_connections_open", live, Set::size)
        .description("WebSocket connections open now").register(registry);
    Gauge.builder("socket_outbound_queue_frames", live, Metrics::queued)
        .description("Frames waiting in all outbound queues").register(registry);
    Gauge.builder("socket_outbound_queue_frames_max", live, Metrics::deepest)
        .description("Frames waiting in the fullest outbound queue").register(registry);
    Gauge.builder("socket_systems_registered", systems, AtomicInteger::get).register(registry);
    Gauge.builder("socket_groups_live", groups, AtomicInteger::get).register(registry);
    connects = Counter.builder("socket_connects_total").description("Accepted WebSocket connections")
        .register(registry);
    framesAccepted = Counter.builder("socket_frames_queued_total")
        .description("Frames accepted into an outbound queue (the delivered counts)").register(registry);
    framesRefused = Counter.builder("socket_frames_dropped_total")
        .description("Frames refused: queue full or connection closing").register(registry);
    framesWritten = Counter.builder("socket_frames_written_total").description("Frames written to sockets")
        .register(registry);
    slowConsumerCloses = Counter.builder("socket_slow_consumer_closes_total")
        .description("Connections closed with 1013 because their queue overflowed").register(registry);
    apiDirect = Counter.builder("socket_api_direct_total")
        .description("API calls answered by the direct path, without the routing DSL (socket.api.direct-path)")
        .register(registry);
  }

  /** The sessions waiting to be resumed now, as {@code socket_sessions_detached}. */
  public void sessions(java.util.function.IntSupplier detached) {
    Gauge.builder("socket_sessions_detached", detached, d -> d.getAsInt()).strongReference(true)
        .description("Resumable sessions whose connection was lost, waiting for a resume").register(registry);
  }

  private static double queued(Set<OutboundQueue> live) {
    long sum = 0;
    for (OutboundQueue o : live) sum += o.depth();
    return sum;
  }

  private static double deepest(Set<OutboundQueue> live) {
    int max = 0;
    for (OutboundQueue o : live) max = Math.max(max, o.depth());
    return max;
  }

  @Override
  public void discarded(Discard reason, int frames) {
    counters.computeIfAbsent("discard " + reason.label(), key -> Counter.builder("socket_frames_discarded_total")
        .tag("reason", reason.label())
        .description("Frames accepted into a queue (so counted in a delivered) and then thrown away unwritten")
        .register(registry)).increment(frames);
  }

  public void connectionOpened(OutboundQueue queue) {
    live.add(queue);
    connects.increment();
  }

  /**
   * A connection's close was decided with {@code code} (1006 when no close frame was exchanged). It still counts
   * as open until {@link #connectionEnded}: the drain waits for closes that are done, not merely requested.
   */
  public void connectionClosed(OutboundQueue queue, int code) {
    String label = CLOSE_CODES.contains(code) ? Integer.toString(code) : "other";
    counters.computeIfAbsent("disconnect " + label, key -> Counter.builder("socket_disconnects_total")
        .tag("code", label).description("Ended WebSocket connections by close code").register(registry)).increment();
    if (code == CloseCode.TRY_AGAIN_LATER) slowConsumerCloses.increment();
  }

  /** The connection's socket is being released. */
  public void connectionEnded(OutboundQueue queue) {
    live.remove(queue);
  }

  public int openConnections() {
    return live.size();
  }

  /** A handshake on /ws that did not become a client; {@code reason} comes from a fixed set. */
  public void handshakeFailed(String reason) {
    counters.computeIfAbsent("handshake " + reason, key -> Counter.builder("socket_handshake_failures_total")
        .tag("reason", reason).register(registry)).increment();
  }

  /** One API call answered by the direct path (it is counted in {@link #apiRequest} too). */
  public void apiDirect() {
    apiDirect.increment();
  }

  public void apiRequest(String operation, int status, long nanos) {
    String op = Operation.NAMES.contains(operation) ? operation : "unknown"; // the declared operations
    timers.computeIfAbsent(op + ' ' + status, key -> Timer.builder("socket_api_requests")
            .tag("operation", op)
            .tag("status", Integer.toString(status))
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofNanos(100_000))
            .maximumExpectedValue(Duration.ofSeconds(10))
            .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  public void systemRegistered() {
    systems.incrementAndGet();
  }

  public void groupStarted() {
    groups.incrementAndGet();
  }

  public void groupStopped() {
    groups.decrementAndGet();
  }

  @Override
  public void accepted() {
    framesAccepted.increment();
  }

  @Override
  public void refused() {
    framesRefused.increment();
  }

  @Override
  public void written() {
    framesWritten.increment();
  }

  /** The Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }

  // ---- cluster mode ----

  /** The nodes this node routes to ({@code socket_cluster_members}) and those unreachable now. */
  public void clusterView(java.util.function.IntSupplier members, java.util.function.IntSupplier unreachable) {
    Gauge.builder("socket_cluster_members", members, d -> d.getAsInt()).strongReference(true)
        .description("Cluster nodes serving (Up), this one included").register(registry);
    Gauge.builder("socket_cluster_unreachable", unreachable, d -> d.getAsInt()).strongReference(true)
        .description("Cluster nodes this node cannot reach now").register(registry);
  }

  /**
   * A call that waited for other nodes ended after {@code nanos}; {@code partial} when some node did not answer
   * ({@code socket_cluster_remote_seconds{operation}}, {@code socket_cluster_partial_answers_total{operation}}).
   */
  public void clusterGathered(String operation, long nanos, boolean partial) {
    timers.computeIfAbsent("cluster " + operation, key -> Timer.builder("socket_cluster_remote_seconds")
        .tag("operation", operation).description("Calls that waited for other nodes, by operation")
        .publishPercentiles(0.5, 0.99).register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    if (partial) {
      counters.computeIfAbsent("partial " + operation, key -> Counter.builder("socket_cluster_partial_answers_total")
          .tag("operation", operation).description("Answers with missingNodes: some node did not answer in time")
          .register(registry)).increment();
    }
  }

  /** A clientId named a node that is not in the cluster (crafted, or a node that left): nothing was sent. */
  public void clusterUnknownTag() {
    counters.computeIfAbsent("unknown tag", key -> Counter.builder("socket_cluster_unknown_tag_total")
        .description("Calls naming a clientId of no current node (answered at once, nothing sent)")
        .register(registry)).increment();
  }

  /** A late frame of an earlier incarnation of a group's sequencer was dropped. */
  public void clusterStaleFrames() {
    counters.computeIfAbsent("stale", key -> Counter.builder("socket_cluster_stale_frames_total")
        .description("Group frames dropped because a newer sequence of their group was applied already")
        .register(registry)).increment();
  }
}

package io.pekkosocket.cluster;

import io.pekkosocket.TestServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.Address;
import org.apache.pekko.remote.RARP;
import org.apache.pekko.remote.transport.ThrottlerTransportAdapter;
import org.apache.pekko.remote.transport.ThrottlerTransportAdapter$Direction$Both$;

/**
 * Nodes of one cluster in this JVM, each a whole server (HTTP on a free port of 127.0.0.1, its own data dir and
 * node tag), joined through the first node as the seed, with every cross-node message serialized (also between
 * actors of one node: {@code serialize-messages}) and Artery's test mode on for partitions.
 */
final class ClusterNodes implements AutoCloseable {
  final List<TestServer> nodes = new ArrayList<>();
  private final int seedPort;
  private final Map<String, Object> extra;

  private ClusterNodes(int seedPort, Map<String, Object> extra) {
    this.seedPort = seedPort;
    this.extra = extra;
  }

  /** {@code count} nodes tagged n1, n2, …, each ready (Up, with the registry) before this returns. */
  static ClusterNodes start(int count) {
    return start(count, Map.of());
  }

  static ClusterNodes start(int count, Map<String, Object> extra) {
    ClusterNodes c = new ClusterNodes(freePort(), extra);
    List<java.util.concurrent.CompletableFuture<TestServer>> starting = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      String tag = "n" + i;
      int port = i == 1 ? c.seedPort : freePort();
      starting.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> c.startNode(tag, port)));
    }
    for (var s : starting) c.nodes.add(s.join());
    for (TestServer n : c.nodes) c.awaitReady(n);
    return c;
  }

  /** Config of a node: cluster on, seed = the first node; short failure timings for the tests. */
  Map<String, Object> config(String tag, int clusterPort) {
    Map<String, Object> m = new HashMap<>();
    m.put("socket.node-id", tag);
    m.put("socket.cluster.enabled", "on");
    m.put("socket.cluster.host", "127.0.0.1");
    m.put("socket.cluster.port", clusterPort);
    m.put("socket.cluster.seed-nodes", List.of("127.0.0.1:" + seedPort));
    m.put("socket.cluster.gather-timeout", "1500ms");
    m.put("pekko.actor.serialize-messages", "on");
    m.put("pekko.actor.no-serialization-verification-needed-class-prefix", List.of("org.apache.pekko.",
        "io.pekkosocket.actors.", "io.pekkosocket.Guardian", "io.pekkosocket.http.", "io.pekkosocket.ws.",
        "io.pekkosocket.wire.", "io.pekkosocket.api.", "java.", "scala."));
    m.put("pekko.remote.artery.advanced.test-mode", "on");
    m.put("pekko.cluster.split-brain-resolver.stable-after", "3s");
    m.put("pekko.cluster.down-removal-margin", "1s");
    m.put("pekko.cluster.failure-detector.acceptable-heartbeat-pause", "2s");
    m.put("pekko.cluster.failure-detector.heartbeat-interval", "500ms");
    m.put("pekko.coordinated-shutdown.run-by-jvm-shutdown-hook", "off");
    m.put("pekko.loglevel", "WARNING");
    m.put("pekko.cluster.jmx.multi-mbeans-in-same-jvm", "on");
    m.putAll(extra);
    return m;
  }

  TestServer startNode(String tag, int clusterPort) {
    return TestServer.start(config(tag, clusterPort));
  }

  TestServer startNode(String tag) {
    return startNode(tag, freePort());
  }

  void awaitReady(TestServer n) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!n.server.ready()) {
      if (System.nanoTime() > deadline) throw new AssertionError("node on port " + n.port() + " never became ready");
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  TestServer node(int i) {
    return nodes.get(i - 1);
  }

  static Address address(TestServer n) {
    return org.apache.pekko.cluster.typed.Cluster.get(n.server.system()).selfMember().address();
  }

  /** Drops every message between {@code a} and {@code b}, both ways (Artery test mode), or lets them through again. */
  static void blackhole(TestServer a, TestServer b, boolean on) throws Exception {
    for (TestServer[] pair : new TestServer[][] {{a, b}, {b, a}}) {
      var classic = org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(pair[0].server.system());
      Object mode = on ? ThrottlerTransportAdapter.Blackhole$.MODULE$ : ThrottlerTransportAdapter.Unthrottled$.MODULE$;
      var f = ((RARP) RARP.get(classic)).provider().transport().managementCommand(
          new ThrottlerTransportAdapter.SetThrottle(address(pair[1]),
          ThrottlerTransportAdapter$Direction$Both$.MODULE$,
          (ThrottlerTransportAdapter.ThrottleMode) mode));
      scala.concurrent.Await.result(f, scala.concurrent.duration.Duration.create(10, "s"));
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    // all at once: a node of a broken cluster may take its phase timeouts to stop
    List<Thread> stopping = new ArrayList<>();
    for (TestServer n : nodes) {
      Thread t = new Thread(() -> {
        try {
          n.close();
        } catch (Exception ignored) {
          // stopping the rest regardless
        }
      });
      t.start();
      stopping.add(t);
    }
    for (Thread t : stopping) {
      try {
        t.join(60_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}

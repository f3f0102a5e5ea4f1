package io.pekkosocket;

import io.pekkosocket.wire.CloseCode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.japi.function.Function;
import com.typesafe.config.Config;
import io.pekkosocket.http.ApiRoutes;
import io.pekkosocket.http.Envelopes;
import io.pekkosocket.http.HealthRoutes;
import io.pekkosocket.http.IdleGuard;
import io.pekkosocket.http.SocketRoutes;
import com.typesafe.config.ConfigFactory;
import io.pekkosocket.auth.KeyRing;
import io.pekkosocket.actors.Sessions;
import io.pekkosocket.actors.SystemActor;
import io.pekkosocket.auth.ResumeTokens;
import io.pekkosocket.auth.Tokens;
import io.pekkosocket.ops.Faults;
import io.pekkosocket.ops.Metrics;
import io.pekkosocket.registry.SystemStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.stream.javadsl.Flow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running server: the actor system with its {@link Guardian}, and the HTTP binding. {@link Main} starts one from
 * the loaded configuration; tests start one on a free port of 127.0.0.1.
 */
public final class Server {
  private static final Logger log = LoggerFactory.getLogger(Server.class);

  private final ActorSystem<Guardian.Command> system;
  private final ServerBinding binding;
  /** The listener of {@code socket.metrics.port}; null when /metrics is served on the API port. */
  private final ServerBinding metricsBinding;
  private final Settings settings;
  private final Readiness readiness;

  private Server(ActorSystem<Guardian.Command> system, ServerBinding binding, ServerBinding metricsBinding,
      Settings settings, Readiness readiness) {
    this.readiness = readiness;
    this.system = system;
    this.binding = binding;
    this.metricsBinding = metricsBinding;
    this.settings = settings;
  }

  /**
   * Opens the registry (a corrupt one fails the returned stage with a clear message), starts the actor system and
   * binds. Blocks only for the registry's initial load, before any actor runs.
   */
  public static CompletionStage<Server> start(Config config) {
    return start(config, Faults.NONE);
  }

  /** As {@link #start(Config)}, with a fault-injection hook (tests only). */
  public static CompletionStage<Server> start(Config baseConfig, Faults faults) {
    Settings settings;
    try {
      settings = Settings.from(baseConfig);
    } catch (Settings.InvalidSetting | com.typesafe.config.ConfigException e) {
      log.error(e.getMessage());
      return CompletableFuture.failedFuture(e);
    }
    Config config = runtimeConfig(baseConfig);
    Logging.apply(settings.logLevel());
    SystemStore store;
    List<String> registered;
    KeyRing keys = new KeyRing();
    try {
      store = SystemStore.open(settings.dataDir());
      for (String id : settings.preRegisteredSystems()) store.insert(id);
      registered = store.loadAll();
      store.loadKeys().values().forEach(k -> keys.set(k.systemId(), k.current(), k.previous(), k.previousUntilMillis()));
    } catch (SystemStore.StoreException e) {
      log.error(e.getMessage());
      return CompletableFuture.failedFuture(e);
    } catch (java.sql.SQLException e) {
      log.error("could not pre-register the configured systems: {}", e.getMessage());
      return CompletableFuture.failedFuture(e);
    }
    byte[] secret = secret(settings);
    Tokens tokens = new Tokens(secret, settings.authLeeway(), keys, java.time.Clock.systemUTC());
    boolean metricsApart = settings.metricsPort().isPresent();

    Metrics metrics = new Metrics();
    Admission admission = new Admission(settings.commandsInFlightPerSystem(), settings.bytesInFlightPerSystem());
    Sessions sessions = new Sessions(new ResumeTokens(), settings.resumeWindow(), settings.resumeBuffer(),
        settings.detachedSessions());
    metrics.sessions(sessions::detached);
    Map<String, SystemStore.Keys> storedKeys;
    try {
      storedKeys = store.loadKeys();
    } catch (SystemStore.StoreException e) {
      log.error(e.getMessage());
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<Void> clusterReady = settings.cluster().enabled() ? new CompletableFuture<>() : null;
    ActorSystem<Guardian.Command> system = ActorSystem.create(
        Guardian.create(settings, store, registered, storedKeys, keys, sessions, metrics, faults, admission,
            clusterReady), Settings.Cluster.SYSTEM_NAME, config);
    system.getWhenTerminated().thenRun(store::close);
    Readiness readiness = new Readiness();
    ObjectMapper mapper = new ObjectMapper();
    Envelopes envelopes = new Envelopes(mapper);
    ApiRoutes api = new ApiRoutes(system, system, settings, mapper, envelopes, tokens, metrics, admission);
    Route route = new AllDirectives() {
      Route build() {
        return envelopes.handled(concat(
            new HealthRoutes(readiness, envelopes, metrics, !metricsApart, settings.metricsToken()).routes(),
            new SocketRoutes(system, system, settings, envelopes, tokens, sessions.tokens(), metrics,
                readiness).routes(),
            api.routes()));
      }
    }.build();
    // the common API call skips the routing DSL (ApiRoutes.direct); everything else goes through the route
    Function<HttpRequest, CompletionStage<HttpResponse>> routed = route.handler(system);
    Function<HttpRequest, CompletionStage<HttpResponse>> handler = request -> {
      CompletionStage<HttpResponse> direct = settings.directApi() ? api.direct(request) : null;
      return direct != null ? direct : routed.apply(request);
    };
    Route metricsRoute = envelopes.handled(
        new HealthRoutes(readiness, envelopes, metrics, true, settings.metricsToken()).routes());

    return bind(system, settings.host(), settings.port(), handler, settings.httpIdleTimeout())
        .thenCompose(binding -> !metricsApart ? CompletableFuture.completedFuture(List.of(binding))
            : bind(system, settings.host(), settings.metricsPort().getAsInt(), metricsRoute.handler(system),
                settings.httpIdleTimeout()).thenApply(m -> List.of(binding, m)))
        .thenApply(bindings -> {
          // only a server that is really serving (bound) publishes its admin token: a second instance started by
          // mistake on the same data dir fails to bind and leaves the running server's file alone
          if (settings.jwtSecret().isEmpty()) publishAdminToken(settings, secret);
          addDrain(system, bindings, readiness, settings, metrics);
          if (clusterReady == null) {
            readiness.ready();
          } else {
            // ready once Up in the cluster with the registry, and the only node with this node-id
            readiness.joining();
            clusterReady.whenComplete((ok, failure) -> {
              if (failure == null) {
                readiness.ready();
              } else {
                log.error("not joining the cluster: {}; stopping", failure.getMessage());
                readiness.failed();
                CoordinatedShutdown.get(system).run(DUPLICATE_NODE_ID);
              }
            });
          }
          log.info("pekko-socket listening on {}", bindings.get(0).localAddress());
          if (metricsApart) log.info("/metrics and /health on {}", bindings.get(1).localAddress());
          return new Server(system, bindings.get(0), metricsApart ? bindings.get(1) : null, settings, readiness);
        })
        .exceptionally(e -> {
          system.terminate();
          throw e instanceof java.util.concurrent.CompletionException c ? c : new java.util.concurrent.CompletionException(e);
        });
  }

  /** The shutdown reason of a node that found another node with its node-id: exit status 3. */
  public static final CoordinatedShutdown.Reason DUPLICATE_NODE_ID = new CoordinatedShutdown.Reason() {
    @Override
    public String toString() {
      return "DuplicateNodeId";
    }
  };

  /**
   * Binds one listener on {@code socket.http.host}; a failure is logged and fails the stage naming the address. Each
   * connection runs {@code handler} as {@code bind(handler)} would (at most {@code pipelining-limit} requests at a
   * time), behind an {@link IdleGuard} of {@code idleTimeout}.
   */
  private static CompletionStage<ServerBinding> bind(ActorSystem<?> system, String host, int port,
      Function<HttpRequest, CompletionStage<HttpResponse>> handler, Duration idleTimeout) {
    // bind(handler) does exactly this in Pekko HTTP 1.3.0 (and, unlike bindFlow, could switch to HTTP/2 when
    // pekko.http.server.enable-http2 is on; the server never turns it on)
    int pipelining = ServerSettings.create(system.settings().config()).getPipeliningLimit();
    Flow<HttpRequest, HttpResponse, NotUsed> flow = Flow.of(HttpRequest.class).mapAsync(pipelining, handler);
    return Http.get(system).newServerAt(host, port).bindFlow(IdleGuard.around(flow, idleTimeout))
        .exceptionally(e -> {
          log.error("could not bind {}:{}: {}", host, port, e.toString());
          throw new IllegalStateException("bind failed on " + host + ":" + port, e);
        });
  }

  /** The Pekko settings that follow from the server's own: {@code baseConfig} with them on top. */
  static Config runtimeConfig(Config baseConfig) {
    Settings settings = Settings.from(baseConfig);
    java.util.Map<String, Object> derived = new java.util.HashMap<>();
    // the drain phase must be allowed to last the whole drain window and the last close handshakes
    derived.put("pekko.coordinated-shutdown.phases.service-unbind.timeout",
        settings.drain().plus(settings.closeTimeout()).plusSeconds(5).toMillis() + "ms");
    // Pekko's idle timer would wake every idle-timeout / 8 on every connection, WebSockets included, for their whole
    // life (docs/BENCHMARKS.md): off. IdleGuard times the HTTP phase of a connection (socket.http.idle-timeout, M1),
    // the WebSocket heartbeat times a WebSocket. With infinite, Pekko adds no idle stage to a connection.
    derived.put("pekko.http.server.idle-timeout", "infinite");
    // once the server is done with a connection, Pekko keeps it at most this long for the peer to drain it, then
    // resets it: a WebSocket whose close frame the peer never reads ends within close-timeout, not Pekko's minute
    derived.put("pekko.http.server.linger-timeout", settings.closeTimeout().toMillis() + "ms");
    // Pekko's own request timeout must not answer (with its bare 503) before the API's deadline and grace have
    // run out: a caller answered 503 must be one whose command never runs
    Duration apiAnswer = settings.askTimeout().plus(settings.deadlineGrace());
    String requestTimeout = baseConfig.getString("pekko.http.server.request-timeout");
    boolean none = requestTimeout.equals("infinite") || requestTimeout.equals("off"); // Pekko's two words for none
    if (!none && baseConfig.getDuration("pekko.http.server.request-timeout").compareTo(apiAnswer.plusSeconds(1)) < 0) {
      derived.put("pekko.http.server.request-timeout", apiAnswer.plusSeconds(1).toMillis() + "ms");
    }
    // the client's address, needed by the per-address handshake limit (Pekko's default is off)
    if (settings.handshakesPerAddress() > 0) derived.put("pekko.http.server.remote-address-attribute", "on");
    if (settings.cluster().enabled()) clusterConfig(settings, derived);
    return ConfigFactory.parseMap(derived).withFallback(baseConfig);
  }

  /** Cluster mode's Pekko settings, from the socket.cluster keys (socket-defaults.conf has the fixed ones). */
  private static void clusterConfig(Settings settings, java.util.Map<String, Object> derived) {
    Settings.Cluster c = settings.cluster();
    derived.put("pekko.actor.provider", "cluster");
    derived.put("pekko.remote.artery.canonical.hostname", c.host());
    derived.put("pekko.remote.artery.canonical.port", c.port());
    derived.put("pekko.cluster.seed-nodes", c.seedNodes());
    derived.put("pekko.cluster.roles", List.of(Settings.Cluster.role(settings.nodeId())));
    // the largest push the API accepts is encoded whole into one message to each node
    long largest = Math.max(settings.maxBody(), settings.outboundBytes());
    long frame = Math.max(256 * 1024, 2 * largest + 64 * 1024);
    derived.put("pekko.remote.artery.advanced.maximum-frame-size", frame + "b");
    // the node's own drain (1012 to its clients, their leaves to the other nodes) runs before it leaves the cluster
    derived.put("pekko.cluster.run-coordinated-shutdown-when-down", "on");
  }

  /**
   * Shutdown order: /health/ready turns 503 and new WebSockets are refused; every WebSocket is closed with 1012,
   * spread over {@code socket.shutdown.drain}, with no 1002; once none is left (or the window and the close timeout
   * have passed) the port is unbound and the remaining HTTP connections end.
   */
  private static void addDrain(ActorSystem<Guardian.Command> system, List<ServerBinding> bindings,
      Readiness readiness, Settings settings, Metrics metrics) {
    CoordinatedShutdown cs = CoordinatedShutdown.get(system);
    cs.addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "socket-not-ready", () -> {
      readiness.draining();
      log.info("draining {} connections over {}", metrics.openConnections(), settings.drain());
      return CompletableFuture.completedFuture(Done.getInstance());
    });
    cs.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "socket-drain", () -> {
      system.tell(new Guardian.DrainAll(
          new SystemActor.Drain(CloseCode.SERVICE_RESTART, "service restart", settings.drain())));
      long deadline = System.nanoTime() + settings.drain().plus(settings.closeTimeout()).toNanos();
      CompletableFuture<Done> drained = new CompletableFuture<>();
      awaitNoConnections(system, metrics, deadline, drained);
      return drained.thenCompose(d -> all(bindings, ServerBinding::unbind));
    });
    cs.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "socket-terminate-http",
        () -> all(bindings, b -> b.terminate(Duration.ofSeconds(1))));
  }

  private static CompletionStage<Done> all(List<ServerBinding> bindings,
      java.util.function.Function<ServerBinding, CompletionStage<?>> step) {
    return CompletableFuture.allOf(bindings.stream().map(b -> step.apply(b).toCompletableFuture())
        .toArray(CompletableFuture[]::new)).thenApply(x -> Done.getInstance());
  }

  private static void awaitNoConnections(ActorSystem<?> system, Metrics metrics, long deadline,
      CompletableFuture<Done> drained) {
    if (metrics.openConnections() == 0 || System.nanoTime() > deadline) {
      drained.complete(Done.getInstance());
      return;
    }
    system.scheduler().scheduleOnce(Duration.ofMillis(50),
        () -> awaitNoConnections(system, metrics, deadline, drained), system.executionContext());
  }

  /**
   * The configured secret, or a random one: then an admin token for this run is written to
   * {@code <data-dir>/admin-token} (mode 0600) and the log says where, never what (audit L5).
   */
  private static byte[] secret(Settings settings) {
    if (!settings.jwtSecret().isEmpty()) {
      if (settings.jwtSecret().length() < 32) {
        log.warn("socket.auth.jwt-secret is shorter than 32 characters; use a longer random secret");
      }
      return settings.jwtSecret().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    byte[] random = new byte[32];
    new java.security.SecureRandom().nextBytes(random);
    return random;
  }

  /** Without a configured secret: an admin token for this run, in a 0600 file of the data dir; the log names the file. */
  private static void publishAdminToken(Settings settings, byte[] randomSecret) {
    String admin = new Tokens(randomSecret).issue(Tokens.ADMIN, null, null, Duration.ofDays(1));
    java.nio.file.Path file = settings.dataDir().resolve(ADMIN_TOKEN_FILE).toAbsolutePath();
    try {
      writePrivate(file, admin + "\n");
      log.warn("no socket.auth.jwt-secret (SOCKET_JWT_SECRET) configured: using a random secret for this run only; "
          + "tokens will not survive a restart. An admin token for this run (24h) is in {} (mode 0600)", file);
    } catch (java.io.IOException e) {
      log.error("no socket.auth.jwt-secret (SOCKET_JWT_SECRET) configured, and the admin token for this run could "
          + "not be written to {}: {}; no admin token exists for this run, set SOCKET_JWT_SECRET", file, e.toString());
    }
  }


  /** The file, in the data dir, that holds the admin token of a run without a configured secret. */
  public static final String ADMIN_TOKEN_FILE = "admin-token";

  /**
   * Writes {@code text} to {@code file}, readable by the owner only: a new file created 0600 in the same directory,
   * then moved over the old one, so the content is never readable by others, not even for a moment.
   */
  private static void writePrivate(java.nio.file.Path file, String text) throws java.io.IOException {
    java.nio.file.Path dir = file.getParent();
    java.nio.file.Path tmp;
    if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      tmp = java.nio.file.Files.createTempFile(dir, ".admin-token", ".tmp",
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    } else {
      tmp = java.nio.file.Files.createTempFile(dir, ".admin-token", ".tmp");
    }
    try {
      java.nio.file.Files.writeString(tmp, text, java.nio.charset.StandardCharsets.UTF_8);
      java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } finally {
      java.nio.file.Files.deleteIfExists(tmp);
    }
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  /** The port of the separate /metrics listener ({@code socket.metrics.port}), if there is one. */
  public java.util.OptionalInt metricsPort() {
    return metricsBinding == null ? java.util.OptionalInt.empty()
        : java.util.OptionalInt.of(metricsBinding.localAddress().getPort());
  }

  public ActorSystem<Guardian.Command> system() {
    return system;
  }

  public Settings settings() {
    return settings;
  }

  /** Whether /health/ready answers 200 (tests: cluster nodes become ready once Up with the registry). */
  public boolean ready() {
    return readiness.isReady();
  }

  /** Runs the coordinated shutdown and waits for it (tests; never from an actor). */
  public void stop(Duration timeout) throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }
}

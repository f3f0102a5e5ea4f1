package io.pekkosocket;

import io.pekkosocket.actors.Deadline;
import io.pekkosocket.actors.Sessions;
import io.pekkosocket.actors.SystemActor;
import io.pekkosocket.auth.KeyRing;
import io.pekkosocket.cluster.ClusterNode;
import io.pekkosocket.cluster.GroupSequencer;
import io.pekkosocket.cluster.NodeRouter;
import io.pekkosocket.cluster.Registry;
import io.pekkosocket.cluster.Wire;
import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.wire.Ids;
import io.pekkosocket.ops.Faults;
import io.pekkosocket.ops.Metrics;
import io.pekkosocket.registry.SystemStore;
import io.pekkosocket.wire.ApiResult;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.ArrayList;
import java.util.Map;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The root of the hierarchy: the registry of systems and one {@link SystemActor} per registered systemId. Every
 * API call enters here ({@link ForSystem}) and is handed to its system, or answered {@code 系统ID无效}.
 *
 * <p>{@code register} answers success only after the {@link SystemStore} has synced the new system to disk; the
 * write runs on the blocking dispatcher and comes back as {@link Stored}. A register for a systemId whose write is
 * still in flight waits for it: "duplicate" if it succeeds, "registry unavailable" if it fails.
 * A register whose deadline has passed is answered busy and writes nothing.
 *
 * <p>{@code rotate_system_key} works the same way: the new key is made and stored on the blocking dispatcher, comes
 * back as {@link KeyStored}, and only then goes into the {@link KeyRing} the routes verify with and into the answer.
 * Rotations of one system run one after another, so the ring always holds what the store holds.
 *
 * <p>The Guardian watches its SystemActors. One that stops (an {@code Error} in it; nothing stops them otherwise)
 * has had its connections closed with 1011 by their ClientActors; the Guardian starts a fresh, empty SystemActor
 * for the same (still registered) systemId, so the API and new connections work again.
 */
public final class Guardian extends AbstractBehavior<Guardian.Command> {

  public sealed interface Command {}

  public record Register(String systemId, Deadline deadline, ActorRef<ApiResult<ApiResult.Empty>> replyTo)
      implements Command {}

  /** {@code rotate_system_key}: a new signing key for {@code systemId}; the previous one verifies for {@code grace}. */
  public record RotateKey(String systemId, Duration grace, Deadline deadline,
      ActorRef<ApiResult<ApiResult.KeyRotated>> replyTo) implements Command {}

  /** An API call for a system; unknown systems get {@code 系统ID无效} on the call's own replyTo. */
  public record ForSystem(String systemId, SystemActor.ApiCommand<?> command) implements Command {}

  /**
   * Anything else for a system's actor: a handshake's {@link SystemActor.Connect} (answered
   * {@link SystemActor.UnknownSystem} here when the system is not registered: the one place that decides it),
   * operational queries. WebSockets enter the tree here, exactly as API calls do through {@link ForSystem}: no route
   * holds a SystemActor's ref, so in cluster mode this is the one routing seam.
   */
  public record ToSystem(String systemId, SystemActor.Command command) implements Command {}

  /** Cluster mode: a node left the cluster; every system wakes its groups' sequencers (see {@link Wire.Wake}). */
  public enum NodeRemoved implements Command { INSTANCE }

  /** Shutdown: every system (also one started again later) is told {@code drain}. */
  public record DrainAll(SystemActor.Drain drain) implements Command {}

  /** Cluster mode: the shared registry as it is now (from the {@link Registry}). */
  private record Learned(Registry.Learned learned) implements Command {}

  /** Cluster mode: a call for a system unknown here, after this node's registry replica was read for it. */
  private record LookedUp(Command original) implements Command {}

  /** Cluster mode: a registry change has been shared; the rest of its answer runs here. */
  private record Shared(Runnable then) implements Command {}

  private record Stored(String systemId, Throwable failure, ActorRef<ApiResult<ApiResult.Empty>> replyTo) implements Command {}

  private record KeyStored(RotateKey request, SystemStore.Keys keys, Throwable failure) implements Command {}

  private record SystemTerminated(String systemId, ActorRef<SystemActor.Command> ref) implements Command {}

  /** A lost system's delayed start (after repeated quick losses). */
  private record Restart(String systemId) implements Command {}

  /** A system lost again within this of its start counts as a quick loss, and its next start waits. */
  private static final java.time.Duration QUICK_LOSS = java.time.Duration.ofSeconds(10);
  private static final java.time.Duration MAX_BACKOFF = java.time.Duration.ofSeconds(30);

  private final Settings settings;
  private final SystemStore store;
  private final Metrics metrics;
  private final Faults faults;
  private final Admission admission;
  private final Executor blocking;
  private final Map<String, ActorRef<SystemActor.Command>> systems = new HashMap<>();
  /** When each system's actor was last started (nanoTime), and how many quick losses in a row it has had. */
  private final Map<String, Long> startedAt = new HashMap<>();
  private final Map<String, Integer> quickLosses = new HashMap<>();
  /** Systems waiting for a delayed start: their calls are answered busy, their new connections 1013. */
  private final java.util.Set<String> restarting = new java.util.HashSet<>();
  /** systemIds whose write is in flight, with the duplicate registers waiting for its outcome (L8). */
  private final Map<String, List<ActorRef<ApiResult<ApiResult.Empty>>>> storing = new HashMap<>();
  /** systemIds whose key rotation is in flight, with the rotations of the same system waiting their turn. */
  private final Map<String, Deque<RotateKey>> rotating = new HashMap<>();
  private final KeyRing keys;
  private final Sessions sessions;
  private long seq;
  private SystemActor.Drain drain;
  /** Cluster mode: this node's router and registry, and what SystemActors need of it; all null on a single node. */
  private final ActorRef<Object> router;
  private final ActorRef<Registry.Command> registry;
  private final ClusterNode clusterNode;
  /** Cluster mode: the keys applied here from the shared registry, by systemId (to apply only changes). */
  private final Map<String, Registry.Entry> applied = new HashMap<>();

  /**
   * @param registered the systems already in the store (loaded before the actor system started)
   * @param keys the systems' signing keys, loaded from the store; the Guardian is their only writer from now on
   */
  public static Behavior<Command> create(Settings settings, SystemStore store, Collection<String> registered,
      KeyRing keys, Sessions sessions, Metrics metrics, Faults faults, Admission admission) {
    return create(settings, store, registered, Map.of(), keys, sessions, metrics, faults, admission, null);
  }

  /**
   * As above; in cluster mode ({@code clusterReady} not null) also with the stored keys (shared with the other
   * nodes) and the future completed once this node is ready in the cluster.
   */
  public static Behavior<Command> create(Settings settings, SystemStore store, Collection<String> registered,
      Map<String, SystemStore.Keys> storedKeys, KeyRing keys, Sessions sessions, Metrics metrics, Faults faults,
      Admission admission, CompletableFuture<Void> clusterReady) {
    return Behaviors.setup(ctx -> new Guardian(ctx, settings, store, registered, storedKeys, keys, sessions, metrics,
        faults, admission, clusterReady));
  }

  private Guardian(ActorContext<Command> ctx, Settings settings, SystemStore store, Collection<String> registered,
      Map<String, SystemStore.Keys> storedKeys, KeyRing keys, Sessions sessions, Metrics metrics, Faults faults,
      Admission admission, CompletableFuture<Void> clusterReady) {
    super(ctx);
    if (clusterReady != null) {
      var sharding = org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(ctx.getSystem());
      FrameEncoder encoder = new FrameEncoder(settings.escapeHtml(), settings.trailingNewline());
      sharding.init(org.apache.pekko.cluster.sharding.typed.javadsl.Entity.of(GroupSequencer.KEY,
              entity -> GroupSequencer.create(entity.getShard(), encoder, settings.membershipNotices(),
                  settings.cluster().gatherTimeout()))
          .withSettings(org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings.create(ctx.getSystem())
              .withNoPassivationStrategy())
          .withStopMessage(GroupSequencer.Fence.INSTANCE));
      this.router = ctx.spawn(NodeRouter.create(settings, ctx.getSelf(), clusterReady, metrics), "node");
      this.clusterNode = new ClusterNode(settings.nodeId(), router.narrow(), sharding);
      Map<String, Registry.Entry> local = new HashMap<>();
      for (String id : registered) {
        Registry.Entry e = Registry.Entry.of(storedKeys.get(id));
        local.put(id, e);
        applied.put(id, e);
      }
      this.registry = ctx.spawn(Registry.create(local, ctx.messageAdapter(Registry.Learned.class, Learned::new),
          router.narrow(), settings.cluster().gatherTimeout()), "registry");
    } else {
      this.router = null;
      this.registry = null;
      this.clusterNode = null;
    }
    this.sessions = sessions;
    this.keys = keys;
    this.faults = faults;
    this.admission = admission;
    this.metrics = metrics;
    this.settings = settings;
    this.store = store;
    this.blocking = ctx.getSystem().dispatchers()
        .lookup(DispatcherSelector.fromConfig("socket.blocking-dispatcher"));
    registered.forEach(this::spawnSystem);
    ctx.getLog().info("{} registered systems loaded from {}", registered.size(), store.file());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(Stored.class, this::onStored)
        .onMessage(RotateKey.class, this::onRotateKey)
        .onMessage(KeyStored.class, this::onKeyStored)
        .onMessage(ForSystem.class, this::onForSystem)
        .onMessage(ToSystem.class, this::onToSystem)
        .onMessage(DrainAll.class, this::onDrainAll)
        .onMessage(SystemTerminated.class, this::onSystemTerminated)
        .onMessage(Restart.class, this::onRestart)
        .onMessage(Learned.class, this::onLearned)
        .onMessage(LookedUp.class, this::onLookedUp)
        .onMessageEquals(NodeRemoved.INSTANCE, () -> {
          systems.values().forEach(s -> s.tell(SystemActor.WakeGroups.INSTANCE));
          return this;
        })
        .onMessage(Shared.class, m -> {
          m.then().run();
          return this;
        })
        .build();
  }

  private Behavior<Command> onRegister(Register m) {
    if (m.deadline().passed()) {
      m.replyTo().tell(ApiResult.busy());
      return this;
    }
    if (systems.containsKey(m.systemId())) {
      m.replyTo().tell(ApiResult.error(ApiResult.DUPLICATE_SYSTEM));
      return this;
    }
    List<ActorRef<ApiResult<ApiResult.Empty>>> waiting = storing.get(m.systemId());
    if (waiting != null) {
      // the same id is being written: answer by that write's outcome, never "duplicate" before it is known
      waiting.add(m.replyTo());
      return this;
    }
    storing.put(m.systemId(), new ArrayList<>());
    String systemId = m.systemId();
    CompletableFuture<Boolean> write = CompletableFuture.supplyAsync(() -> {
      try {
        return store.insert(systemId);
      } catch (java.sql.SQLException e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    }, blocking);
    getContext().pipeToSelf(write, (ok, failure) -> new Stored(systemId, failure, m.replyTo()));
    return this;
  }

  private Behavior<Command> onStored(Stored m) {
    List<ActorRef<ApiResult<ApiResult.Empty>>> waiting = storing.remove(m.systemId());
    if (m.failure() != null) {
      getContext().getLog().error("could not store a new system: {}", m.failure().toString());
      ApiResult<ApiResult.Empty> unavailable = ApiResult.error("registry unavailable, try again");
      m.replyTo().tell(unavailable);
      waiting.forEach(w -> w.tell(unavailable));
      return this;
    }
    // (in cluster mode the same id may have been registered on another node meanwhile and learned: one actor)
    if (!systems.containsKey(m.systemId())) spawnSystem(m.systemId());
    getContext().getLog().info("registered system #{}", seq);
    Runnable answer = () -> {
      m.replyTo().tell(ApiResult.okEmptyList());
      waiting.forEach(w -> w.tell(ApiResult.error(ApiResult.DUPLICATE_SYSTEM)));
    };
    if (registry == null) {
      answer.run();
    } else {
      // every node accepts its connections once they all have it (or, with a node unreachable, after the timeout)
      Registry.Entry entry = new Registry.Entry(null, null, 0, 0);
      applied.put(m.systemId(), entry);
      registry.tell(new Registry.Publish<>(m.systemId(), entry, new Shared(answer), getContext().getSelf()));
    }
    return this;
  }

  private Behavior<Command> onRotateKey(RotateKey m) {
    Deque<RotateKey> waiting = rotating.get(m.systemId());
    if (waiting != null) {
      waiting.add(m); // runs when the rotation in flight has been stored
      return this;
    }
    startRotation(m);
    return this;
  }

  private void startRotation(RotateKey m) {
    if (m.deadline().passed()) {
      m.replyTo().tell(ApiResult.busy());
      return;
    }
    if (!systems.containsKey(m.systemId())) {
      m.replyTo().tell(ApiResult.error(ApiResult.UNKNOWN_SYSTEM));
      return;
    }
    rotating.put(m.systemId(), new ArrayDeque<>());
    long graceMillis = m.grace().toMillis();
    CompletableFuture<SystemStore.Keys> write = CompletableFuture.supplyAsync(() -> {
      try {
        return store.rotateKey(m.systemId(), KeyRing.newKey(), System.currentTimeMillis(), graceMillis);
      } catch (java.sql.SQLException e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    }, blocking);
    getContext().pipeToSelf(write, (stored, failure) -> new KeyStored(m, stored, failure));
  }

  private Behavior<Command> onKeyStored(KeyStored m) {
    RotateKey request = m.request();
    if (m.failure() != null) {
      getContext().getLog().error("could not store a system's new key: {}", m.failure().toString());
      request.replyTo().tell(ApiResult.error("registry unavailable, try again"));
    } else if (m.keys() == null) {
      request.replyTo().tell(ApiResult.error(ApiResult.UNKNOWN_SYSTEM)); // not in the store (cannot happen)
    } else {
      SystemStore.Keys k = m.keys();
      keys.set(k.systemId(), k.current(), k.previous(), k.previousUntilMillis());
      getContext().getLog().info("rotated a system's signing key; the previous one verifies for {} s",
          request.grace().toSeconds());
      ApiResult<ApiResult.KeyRotated> answer =
          ApiResult.ok(new ApiResult.KeyRotated(k.systemId(), k.systemId(), k.current()));
      if (registry == null) {
        request.replyTo().tell(answer);
      } else {
        Registry.Entry entry = Registry.Entry.of(k);
        applied.put(k.systemId(), entry);
        registry.tell(new Registry.Publish<>(k.systemId(), entry, new Shared(() -> request.replyTo().tell(answer)),
            getContext().getSelf()));
      }
    }
    Deque<RotateKey> waiting = rotating.remove(request.systemId());
    while (waiting != null && !waiting.isEmpty()) {
      startRotation(waiting.poll());
      Deque<RotateKey> next = rotating.get(request.systemId());
      if (next != null) { // one has started: the rest wait for it
        next.addAll(waiting);
        break;
      }
    }
    return this;
  }

  private void spawnSystem(String systemId) {
    admission.registered(systemId);
    startSystem(systemId);
    metrics.systemRegistered();
  }

  private ActorRef<SystemActor.Command> startSystem(String systemId) {
    ActorRef<SystemActor.Command> ref =
        getContext().spawn(SystemActor.create(systemId, settings, sessions, metrics, faults, clusterNode),
            "system-" + (++seq));
    getContext().watchWith(ref, new SystemTerminated(systemId, ref));
    systems.put(systemId, ref);
    startedAt.put(systemId, System.nanoTime());
    return ref;
  }

  /** A SystemActor stopped: its state is gone (its connections were closed with 1011); a fresh one takes over. */
  /**
   * A system's actor was lost (an {@code Error}): its connections were closed with 1011 by their ClientActors; it
   * starts again, empty. A system lost again soon after its start waits before each new start (100 ms, doubling,
   * at most 30 s), so a failure at every start cannot become a tight restart loop; meanwhile its API calls are
   * answered 503 and its new connections closed with 1013.
   */
  private Behavior<Command> onSystemTerminated(SystemTerminated m) {
    if (!m.ref().equals(systems.get(m.systemId()))) return this;
    long lived = System.nanoTime() - startedAt.getOrDefault(m.systemId(), 0L);
    int losses = lived < QUICK_LOSS.toNanos() ? quickLosses.merge(m.systemId(), 1, Integer::sum) : 0;
    if (losses == 0) quickLosses.remove(m.systemId());
    if (losses <= 1) {
      getContext().getLog().error("system {}: its actor was lost; its connections were closed with 1011 and it "
          + "starts again empty", m.systemId());
      restart(m.systemId());
      return this;
    }
    java.time.Duration delay = java.time.Duration.ofMillis(100L << Math.min(losses - 2, 20));
    if (delay.compareTo(MAX_BACKOFF) > 0) delay = MAX_BACKOFF;
    getContext().getLog().error("system {}: its actor was lost again soon after its start ({} times in a row); it "
        + "starts again in {} ms", m.systemId(), losses, delay.toMillis());
    restarting.add(m.systemId());
    getContext().scheduleOnce(delay, getContext().getSelf(), new Restart(m.systemId()));
    return this;
  }

  private Behavior<Command> onRestart(Restart m) {
    if (restarting.remove(m.systemId())) restart(m.systemId());
    return this;
  }

  private void restart(String systemId) {
    ActorRef<SystemActor.Command> fresh = startSystem(systemId);
    if (drain != null) fresh.tell(drain);
  }

  private Behavior<Command> onLookedUp(LookedUp m) {
    if (m.original() instanceof ForSystem f) return forSystem(f, false);
    if (m.original() instanceof ToSystem t) return toSystem(t, false);
    return this;
  }

  /**
   * Cluster mode: a system not known here may have been registered on another node a moment ago (its announcement
   * has not come yet): the call waits for a read of this node's replica, then runs once more.
   */
  private boolean lookUp(String systemId, Command m) {
    if (registry == null || systems.containsKey(systemId)) return false;
    registry.tell(new Registry.Lookup<>(systemId, new LookedUp(m), getContext().getSelf()));
    return true;
  }

  private Behavior<Command> onForSystem(ForSystem m) {
    return forSystem(m, true);
  }

  private Behavior<Command> forSystem(ForSystem m, boolean mayLookUp) {
    if (mayLookUp && lookUp(m.systemId(), m)) return this;
    if (restarting.contains(m.systemId())) {
      refuse(m.command(), ApiResult.BUSY); // nothing ran: it never reached a system
      return this;
    }
    ActorRef<SystemActor.Command> system = systems.get(m.systemId());
    if (system == null) refuse(m.command(), ApiResult.error(ApiResult.UNKNOWN_SYSTEM));
    else if (router == null || local(m.command())) system.tell(m.command());
    else router.tell(new NodeRouter.Call(m.systemId(), m.command()));
    return this;
  }

  /**
   * Cluster mode: whether a call concerns this node's clients only, so this node's SystemActor answers it as on a
   * single node. Binds, unbinds and group sends always go through the group's sequencer; lists and system sends
   * gather every node.
   */
  private boolean local(SystemActor.ApiCommand<?> command) {
    String self = settings.nodeId();
    if (command instanceof SystemActor.SendToClient c) return ownedHere(c.clientId(), self);
    if (command instanceof SystemActor.CloseClient c) return ownedHere(c.clientId(), self);
    if (command instanceof SystemActor.SendToClients c) {
      for (String id : c.clientIds()) if (!ownedHere(id, self)) return false;
      return true;
    }
    return false;
  }

  private static boolean ownedHere(String clientId, String self) {
    return Ids.nodeOf(clientId).equals(self);
  }

  /**
   * Cluster mode: the shared registry changed (or was read). Systems new here start at once (so their connections
   * are accepted) and are stored; keys that changed are applied and stored. Nothing is ever removed.
   */
  private Behavior<Command> onLearned(Learned m) {
    m.learned().entries().forEach((systemId, entry) -> {
      boolean isNew = !systems.containsKey(systemId) && !restarting.contains(systemId);
      if (isNew) {
        spawnSystem(systemId);
        getContext().getLog().info("learned a system registered on another node (#{})", seq);
      }
      if (!isNew && entry.equals(applied.get(systemId))) return;
      Registry.Entry before = applied.get(systemId);
      if (before != null && before.version() > entry.version()) return;
      applied.put(systemId, entry);
      SystemStore.Keys k = entry.keys(systemId);
      if (k != null) keys.set(systemId, k.current(), k.previous(), k.previousUntilMillis());
      CompletableFuture.runAsync(() -> {
        try {
          store.mirror(systemId, k);
        } catch (java.sql.SQLException e) {
          throw new java.util.concurrent.CompletionException(e);
        }
      }, blocking).exceptionally(e -> {
        org.slf4j.LoggerFactory.getLogger(Guardian.class).error("could not store a system learned from the cluster: {}",
            e.toString());
        return null;
      });
    });
    return this;
  }

  /** Answers a command that never reached its system with {@code error}. */
  private static <R> void refuse(SystemActor.ApiCommand<R> command, ApiResult<?> error) {
    command.replyTo().tell(error.asError());
  }

  private Behavior<Command> onToSystem(ToSystem m) {
    return toSystem(m, true);
  }

  private Behavior<Command> toSystem(ToSystem m, boolean mayLookUp) {
    if (mayLookUp && lookUp(m.systemId(), m)) return this;
    ActorRef<SystemActor.Command> system = systems.get(m.systemId());
    if (restarting.contains(m.systemId())) {
      if (m.command() instanceof SystemActor.Connect c) {
        c.replyTo().tell(new SystemActor.NotAdmitted(io.pekkosocket.wire.CloseCode.TRY_AGAIN_LATER,
            "system restarting"));
      } else if (m.command() instanceof SystemActor.FromCluster f) {
        f.command().refuse(settings.nodeId()); // no client of it is here while it restarts
      }
    } else if (system != null) {
      system.tell(m.command());
    } else if (m.command() instanceof SystemActor.Connect c) {
      c.replyTo().tell(new SystemActor.UnknownSystem());
    } else if (m.command() instanceof SystemActor.FromCluster f) {
      f.command().refuse(settings.nodeId()); // a node that does not know the system has no client of it
    }
    return this;
  }


  private Behavior<Command> onDrainAll(DrainAll m) {
    drain = m.drain();
    systems.values().forEach(s -> s.tell(drain));
    return this;
  }
}

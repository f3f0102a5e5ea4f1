package io.pekkosocket;

import io.pekkosocket.actors.SystemActor;
import io.pekkosocket.ops.Faults;
import io.pekkosocket.ops.Metrics;
import io.pekkosocket.registry.SystemStore;
import io.pekkosocket.wire.ApiResult;
import java.util.Collection;
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
 */
public final class Guardian extends AbstractBehavior<Guardian.Command> {

  public sealed interface Command {}

  public record Register(String systemId, ActorRef<ApiResult> replyTo) implements Command {}

  /** An API call for a system; unknown systems get {@code 系统ID无效} on the call's own replyTo. */
  public record ForSystem(String systemId, SystemActor.ApiCommand command) implements Command {}

  /** Finds a system's actor (WebSocket connects); {@code system} is null when it is not registered. */
  public record Lookup(String systemId, ActorRef<Found> replyTo) implements Command {}

  public record Found(String systemId, ActorRef<SystemActor.Command> system) {}

  /** Shutdown: every system closes its connections with {@code code} over {@code window}, sending no 1002. */
  public record Drain(int code, String reason, java.time.Duration window) implements Command {}

  private record Stored(String systemId, Throwable failure, ActorRef<ApiResult> replyTo) implements Command {}

  private final Settings settings;
  private final SystemStore store;
  private final Metrics metrics;
  private final Faults faults;
  private final Executor blocking;
  private final Map<String, ActorRef<SystemActor.Command>> systems = new HashMap<>();
  /** systemIds whose write is in flight, with the duplicate registers waiting for its outcome (L8). */
  private final Map<String, List<ActorRef<ApiResult>>> storing = new HashMap<>();
  private long seq;

  /** @param registered the systems already in the store (loaded before the actor system started) */
  public static Behavior<Command> create(Settings settings, SystemStore store, Collection<String> registered,
      Metrics metrics, Faults faults) {
    return Behaviors.setup(ctx -> new Guardian(ctx, settings, store, registered, metrics, faults));
  }

  private Guardian(ActorContext<Command> ctx, Settings settings, SystemStore store, Collection<String> registered,
      Metrics metrics, Faults faults) {
    super(ctx);
    this.faults = faults;
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
        .onMessage(ForSystem.class, this::onForSystem)
        .onMessage(Lookup.class, this::onLookup)
        .onMessage(Drain.class, this::onDrain)
        .build();
  }

  private Behavior<Command> onRegister(Register m) {
    if (systems.containsKey(m.systemId())) {
      m.replyTo().tell(ApiResult.error(ApiResult.DUPLICATE_SYSTEM));
      return this;
    }
    List<ActorRef<ApiResult>> waiting = storing.get(m.systemId());
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
    List<ActorRef<ApiResult>> waiting = storing.remove(m.systemId());
    if (m.failure() != null) {
      getContext().getLog().error("could not store a new system: {}", m.failure().toString());
      ApiResult unavailable = ApiResult.error("registry unavailable, try again");
      m.replyTo().tell(unavailable);
      waiting.forEach(w -> w.tell(unavailable));
      return this;
    }
    spawnSystem(m.systemId());
    getContext().getLog().info("registered system #{}", seq);
    m.replyTo().tell(ApiResult.okEmptyList());
    waiting.forEach(w -> w.tell(ApiResult.error(ApiResult.DUPLICATE_SYSTEM)));
    return this;
  }

  private void spawnSystem(String systemId) {
    systems.put(systemId, getContext().spawn(SystemActor.create(systemId, settings, metrics, faults), "system-" + (++seq)));
    metrics.systemRegistered();
  }

  private Behavior<Command> onForSystem(ForSystem m) {
    ActorRef<SystemActor.Command> system = systems.get(m.systemId());
    if (system != null) system.tell(m.command());
    else m.command().replyTo().tell(ApiResult.error(ApiResult.UNKNOWN_SYSTEM));
    return this;
  }

  private Behavior<Command> onLookup(Lookup m) {
    m.replyTo().tell(new Found(m.systemId(), systems.get(m.systemId())));
    return this;
  }

  private Behavior<Command> onDrain(Drain m) {
    systems.values().forEach(s -> s.tell(new SystemActor.Drain(m.code(), m.reason(), m.window())));
    return this;
  }
}

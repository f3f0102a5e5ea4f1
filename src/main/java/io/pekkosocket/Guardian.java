package io.pekkosocket;

import io.pekkosocket.actors.SystemActor;
import io.pekkosocket.wire.ApiResult;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The root of the hierarchy: the registry of systems and one {@link SystemActor} per registered systemId. Every
 * API call enters here ({@link ForSystem}) and is handed to its system, or answered {@code 系统ID无效}.
 */
public final class Guardian extends AbstractBehavior<Guardian.Command> {

  public sealed interface Command {}

  public record Register(String systemId, ActorRef<ApiResult> replyTo) implements Command {}

  /** An API call for a system; unknown systems get {@code 系统ID无效} on the call's own replyTo. */
  public record ForSystem(String systemId, SystemActor.ApiCommand command) implements Command {}

  /** Finds a system's actor (WebSocket connects); {@code system} is null when it is not registered. */
  public record Lookup(String systemId, ActorRef<Found> replyTo) implements Command {}

  public record Found(String systemId, ActorRef<SystemActor.Command> system) {}

  /** Shutdown: tells every system to close its connections with {@code code}, sending no 1002. */
  public record Drain(int code, String reason) implements Command {}

  private final Settings settings;
  private final Map<String, ActorRef<SystemActor.Command>> systems = new HashMap<>();
  private long seq;

  public static Behavior<Command> create(Settings settings) {
    return Behaviors.setup(ctx -> new Guardian(ctx, settings));
  }

  private Guardian(ActorContext<Command> ctx, Settings settings) {
    super(ctx);
    this.settings = settings;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
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
    ActorRef<SystemActor.Command> ref =
        getContext().spawn(SystemActor.create(m.systemId(), settings), "system-" + (++seq));
    systems.put(m.systemId(), ref);
    getContext().getLog().info("registered system #{}", seq);
    m.replyTo().tell(ApiResult.okEmptyList());
    return this;
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
    systems.values().forEach(s -> s.tell(new SystemActor.Drain(m.code(), m.reason())));
    return this;
  }
}

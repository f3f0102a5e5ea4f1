package io.pekkosocket.cluster;

import io.pekkosocket.registry.SystemStore;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.LWWRegister;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.SelfUp;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The registry shared by every node in cluster mode: systemId to the system's signing keys, a Distributed Data
 * {@code LWWMap} replicated to every node. Each node keeps its SQLite registry as its durable copy: it adds what it
 * has when it starts (so a cluster restarted whole recovers the union), and stores what it learns. A key setting
 * carries its version (when it was set), so the newest setting wins everywhere, whichever node was down meanwhile.
 */
public final class Registry extends AbstractBehavior<Registry.Command> {

  public sealed interface Command extends NoSerializationVerificationNeeded {}

  /** A system and its keys as shared; {@code current} null: no key of its own. */
  public record Entry(String current, String previous, long previousUntilMillis, long version)
      implements CborSerializable {
    public static Entry of(SystemStore.Keys k) {
      return k == null ? new Entry(null, null, 0, 0) : new Entry(k.current(), k.previous(), k.previousUntilMillis(),
          k.version());
    }

    public SystemStore.Keys keys(String systemId) {
      return current == null ? null : new SystemStore.Keys(systemId, current, previous, previousUntilMillis, version);
    }

    @Override
    public String toString() {
      return "Entry[version " + version + "]"; // never the keys
    }
  }

  /**
   * Shares {@code entry} with every node (registered, or a key rotated here and stored), then tells {@code replyTo}
   * {@code done}: after every node has it, or after the timeout (the write stays, and spreads as soon as it can).
   */
  public record Publish<T>(String systemId, Entry entry, T done, ActorRef<T> replyTo) implements Command {}

  /**
   * A system this node does not know (yet): this node's replica is read (a registration that has just reached it
   * may not have been announced yet: announcements are batched), what it holds is told as {@link Learned}, then
   * {@code then} to {@code replyTo}.
   */
  public record Lookup<T>(String systemId, T then, ActorRef<T> replyTo) implements Command {}

  private record LookedUp(Runnable then) implements Command {}

  /** What the registry holds, to whoever started this actor (the Guardian): every time it changes. */
  public record Learned(Map<String, Entry> entries) implements NoSerializationVerificationNeeded {}

  private record Updated(Runnable then) implements Command {}

  private record Changed(Replicator.SubscribeResponse<LWWMap<String, Entry>> response) implements Command {}

  private record Read(Replicator.GetResponse<LWWMap<String, Entry>> response) implements Command {}

  private record Up() implements Command {}

  private enum Retry implements Command { INSTANCE }

  public static final Key<LWWMap<String, Entry>> KEY = LWWMapKey.create("socket-systems");

  /** A setting's timestamp is its version: the newest wins, ties are the same setting. */
  private static final LWWRegister.Clock<Entry> VERSION_CLOCK = (current, value) -> value.version();

  private final ReplicatorMessageAdapter<Command, LWWMap<String, Entry>> replicator;
  private final SelfUniqueAddress node;
  private final ActorRef<Learned> learned;
  private final ActorRef<NodeRouter.RegistryLoaded> loaded;
  private final Duration timeout;

  public static Behavior<Command> create(Map<String, Entry> local, ActorRef<Learned> learned,
      ActorRef<NodeRouter.RegistryLoaded> loaded, Duration timeout) {
    return Behaviors.setup(ctx -> DistributedData.<Command, LWWMap<String, Entry>>withReplicatorMessageAdapter(
        replicator -> new Registry(ctx, replicator, local, learned, loaded, timeout)));
  }

  private Registry(ActorContext<Command> ctx, ReplicatorMessageAdapter<Command, LWWMap<String, Entry>> replicator,
      Map<String, Entry> local, ActorRef<Learned> learned, ActorRef<NodeRouter.RegistryLoaded> loaded,
      Duration timeout) {
    super(ctx);
    this.replicator = replicator;
    this.learned = learned;
    this.loaded = loaded;
    this.timeout = timeout;
    this.node = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    if (!local.isEmpty()) {
      replicator.askUpdate(reply -> new Replicator.Update<>(KEY, LWWMap.create(), Replicator.writeLocal(), reply,
          map -> {
            LWWMap<String, Entry> m = map;
            for (Map.Entry<String, Entry> e : local.entrySet()) m = m.put(node, e.getKey(), e.getValue(), VERSION_CLOCK);
            return m;
          }), r -> new Updated(() -> {}));
    }
    replicator.subscribe(KEY, Changed::new);
    Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
        ctx.messageAdapter(SelfUp.class, up -> new Up()), SelfUp.class));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Publish.class, m -> onPublish((Publish<?>) m))
        .onMessage(Lookup.class, m -> onLookup((Lookup<?>) m))
        .onMessage(LookedUp.class, m -> {
          m.then().run();
          return this;
        })
        .onMessage(Updated.class, this::onUpdated)
        .onMessage(Changed.class, this::onChanged)
        .onMessage(Up.class, m -> read())
        .onMessageEquals(Retry.INSTANCE, this::read)
        .onMessage(Read.class, this::onRead)
        .build();
  }

  private Behavior<Command> onUpdated(Updated m) {
    m.then().run();
    return this;
  }

  private <T> Behavior<Command> onPublish(Publish<T> m) {
    replicator.askUpdate(reply -> new Replicator.Update<>(KEY, LWWMap.create(), new Replicator.WriteAll(timeout),
        reply, map -> map.put(node, m.systemId(), m.entry(), VERSION_CLOCK)), r -> new Updated(() -> {
          if (!(r instanceof Replicator.UpdateSuccess)) {
            getContext().getLog().warn("a registry change did not reach every node within {} ms; it spreads as "
                + "soon as they are reachable", timeout.toMillis());
          }
          m.replyTo().tell(m.done());
        }));
    return this;
  }

  private <T> Behavior<Command> onLookup(Lookup<T> m) {
    replicator.askGet(reply -> new Replicator.Get<>(KEY, Replicator.readLocal(), reply), r -> new LookedUp(() -> {
      if (r instanceof Replicator.GetSuccess<LWWMap<String, Entry>> ok
          && ok.get(KEY).getEntries().containsKey(m.systemId())) {
        learned.tell(new Learned(Map.copyOf(ok.get(KEY).getEntries())));
      }
      m.replyTo().tell(m.then());
    }));
    return this;
  }

  private Behavior<Command> onChanged(Changed m) {
    if (m.response() instanceof Replicator.Changed<LWWMap<String, Entry>> c) {
      learned.tell(new Learned(Map.copyOf(c.get(KEY).getEntries())));
    }
    return this;
  }

  /** Once Up: the registry as a majority of the nodes has it; only then is this node ready. */
  private Behavior<Command> read() {
    replicator.askGet(reply -> new Replicator.Get<>(KEY, new Replicator.ReadMajority(timeout), reply), Read::new);
    return this;
  }

  private Behavior<Command> onRead(Read m) {
    if (m.response() instanceof Replicator.GetSuccess<LWWMap<String, Entry>> ok) {
      learned.tell(new Learned(Map.copyOf(ok.get(KEY).getEntries())));
      loaded.tell(NodeRouter.RegistryLoaded.INSTANCE);
    } else if (m.response() instanceof Replicator.NotFound<LWWMap<String, Entry>>) {
      loaded.tell(NodeRouter.RegistryLoaded.INSTANCE);
    } else {
      getContext().getLog().info("reading the registry from the cluster did not complete; trying again");
      getContext().scheduleOnce(Duration.ofSeconds(1), getContext().getSelf(), Retry.INSTANCE);
    }
    return this;
  }
}

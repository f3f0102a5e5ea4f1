package io.pekkosocket.cluster;

import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.wire.Ids;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * One group's sequencer in cluster mode: a Cluster Sharding entity per (systemId, group), so exactly one exists in
 * the cluster at a time. It is the only source of the group's frames (pushes, 1001, 1002) and membership changes: it
 * numbers them {@code (epoch, seq)} and sends each once to every node that has members ({@link Wire.Deliver}), where
 * the node's SystemActor applies them in that order. One sender, and Pekko's order between one sender and one
 * receiver, give every member on every node the group's frames in one order (docs/ARCHITECTURE.md "Cluster mode").
 *
 * <p>It holds the member directory (which node, which attributes), to send the 1002s of a node that leaves the
 * cluster: it watches each member node's router, and Pekko tells it when that node has been removed (downed). It
 * keeps no state on disk: a sequencer started again (its node lost, or a group used again) first asks every node for
 * its members and the last point it applied, and continues with a higher epoch; nodes drop frames of an older
 * epoch, so a late frame of the previous incarnation can never follow a newer one.
 */
public final class GroupSequencer extends AbstractBehavior<Object> {

  /** Messages are {@link Wire.ToGroup} from outside; the rest are its own. */
  public static final EntityTypeKey<Object> KEY = EntityTypeKey.create(Object.class, "socket-group");

  /** The entity id of a group: a digest, so no user input ends up in an actor name or a log line. */
  public static String entityId(String systemId, String group) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      byte[] s = systemId.getBytes(StandardCharsets.UTF_8);
      d.update((byte) (s.length >>> 24));
      d.update((byte) (s.length >>> 16));
      d.update((byte) (s.length >>> 8));
      d.update((byte) s.length);
      d.update(s);
      d.update(group.getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private record NodeGone(String node, ActorRef<Wire.ToNode> router) implements NoSerializationVerificationNeeded {}


  private enum Tick implements NoSerializationVerificationNeeded { RESYNC_DONE, IDLE, FENCE_DONE }

  /**
   * The stop message (Cluster Sharding sends it when the sequencer's shard moves, or it passivates): the sequencer
   * stops only once every member node has applied everything it was sent (or after the resync timeout), so a next
   * incarnation's frames can never overtake this one's on their way to a node.
   */
  public enum Fence implements NoSerializationVerificationNeeded { INSTANCE }

  private record Member(String node, String userId, String extend) {}

  private static final class Node {
    final ActorRef<Wire.ToNode> router;
    int members;

    Node(ActorRef<Wire.ToNode> router) {
      this.router = router;
    }
  }

  private static final Duration IDLE = Duration.ofSeconds(30);
  /** 2026-01-01 in Unix seconds: epochs count seconds from there, so they fit an int for decades. */
  private static final long EPOCH_BASE = 1_767_225_600L;

  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final FrameEncoder encoder;
  private final boolean notices;
  private final Duration resyncTimeout;
  private final Map<String, Member> members = new LinkedHashMap<>();
  private final Map<String, Node> nodes = new HashMap<>();
  private String systemId;
  private String group;
  private int epoch;
  private long seq;
  /** The epoch floor sent with the reports: nodes drop frames of it and below; this incarnation's epoch is above. */
  private int floor;
  /** Every node sent a step since this incarnation started (the fence must reach those that left the group too). */
  private final Map<String, ActorRef<Wire.ToNode>> sentTo = new HashMap<>();

  public static Behavior<Object> create(ActorRef<ClusterSharding.ShardCommand> shard, FrameEncoder encoder,
      boolean notices, Duration resyncTimeout) {
    return Behaviors.withStash(10_000, stash -> Behaviors.setup(ctx -> {
      return new Resync(ctx, stash, new GroupSequencer(ctx, shard, encoder, notices, resyncTimeout));
    }));
  }

  private GroupSequencer(ActorContext<Object> ctx, ActorRef<ClusterSharding.ShardCommand> shard,
      FrameEncoder encoder, boolean notices, Duration resyncTimeout) {
    super(ctx);
    this.shard = shard;
    this.encoder = encoder;
    this.notices = notices;
    this.resyncTimeout = resyncTimeout;
  }

  /**
   * The start: every message waits while the nodes report their members of the group, at most the resync timeout
   * (a node that does not answer by then is left out: its members join again with their next bind).
   */
  private static final class Resync extends AbstractBehavior<Object> {
    private final StashBuffer<Object> stash;
    private final GroupSequencer sequencer;
    private final List<Wire.Reported> reports = new ArrayList<>();
    private int waiting = -1;

    Resync(ActorContext<Object> ctx, StashBuffer<Object> stash, GroupSequencer sequencer) {
      super(ctx);
      this.stash = stash;
      this.sequencer = sequencer;
    }

    @Override
    public Receive<Object> createReceive() {
      return newReceiveBuilder()
          .onMessage(Wire.Reported.class, this::onReported)
          .onMessageEquals(Tick.RESYNC_DONE, this::done)
          .onAnyMessage(m -> {
            if (m instanceof Wire.ToGroup g && sequencer.group == null) sequencer.name(g);
            if (m instanceof Wire.ToGroup && waiting < 0) {
              // the first message names the group: ask the nodes now
              askNodes();
            }
            if (!stash.isFull()) stash.stash(m);
            else getContext().getLog().warn("group sequencer starting: {} messages wait already; one is dropped",
                stash.size());
            return this;
          })
          .build();
    }

    /** Every reachable member node this node sees (its own included) is asked. */
    private void askNodes() {
      if (sequencer.group == null) return;
      var routers = NodeRouter.reachableRouters(getContext().getSystem()).values();
      waiting = routers.size();
      ActorRef<Wire.Reported> self = getContext().getSelf().narrow();
      sequencer.floor = clockEpoch();
      for (ActorRef<Wire.ToNode> r : routers) {
        r.tell(new Wire.Report(sequencer.systemId, sequencer.group, sequencer.floor, self));
      }
      getContext().scheduleOnce(sequencer.resyncTimeout, getContext().getSelf(), Tick.RESYNC_DONE);
      if (waiting == 0) getContext().getSelf().tell(Tick.RESYNC_DONE);
    }

    private Behavior<Object> onReported(Wire.Reported m) {
      reports.add(m);
      if (--waiting == 0) return done();
      return this;
    }

    private Behavior<Object> done() {
      sequencer.rebuild(reports);
      return stash.unstashAll(sequencer);
    }
  }

  private static int clockEpoch() {
    return (int) (System.currentTimeMillis() / 1000 - EPOCH_BASE);
  }

  private void name(Wire.ToGroup g) {
    systemId = g.systemId();
    group = g.group();
  }

  /**
   * Takes over what the nodes reported: their members, in their order, and an epoch above every reported one. The
   * members of nodes that did not report (lost with the previous incarnation) are taken from the freshest copy of the
   * directory and leave, with their 1002s.
   */
  private void rebuild(List<Wire.Reported> reports) {
    int maxEpoch = 0;
    Wire.Reported freshest = null;
    java.util.Set<String> reporting = new java.util.HashSet<>();
    List<Map.Entry<Wire.Member, String>> all = new ArrayList<>();
    for (Wire.Reported r : reports) {
      maxEpoch = Math.max(maxEpoch, r.epoch());
      if (r.router() != null) reporting.add(r.node());
      if (!r.directory().isEmpty() && (freshest == null || r.epoch() > freshest.epoch()
          || (r.epoch() == freshest.epoch() && r.seq() > freshest.seq()))) {
        freshest = r;
      }
      if (r.router() == null || r.members().isEmpty()) continue;
      Node n = addNode(r.node(), r.router());
      for (Wire.Member m : r.members()) {
        all.add(Map.entry(m, r.node()));
        n.members++;
      }
    }
    all.sort(Comparator.comparingInt((Map.Entry<Wire.Member, String> e) -> e.getKey().epoch())
        .thenComparingLong(e -> e.getKey().seq()));
    for (Map.Entry<Wire.Member, String> e : all) {
      members.put(e.getKey().clientId(), new Member(e.getValue(), e.getKey().userId(), e.getKey().extend()));
    }
    // above every epoch reported, and at least the floor the nodes were sent (clock seconds since 2026: above any
    // earlier incarnation's even if its nodes did not answer in time; node clocks agree within a second with NTP)
    epoch = Math.max(maxEpoch, floor) + 1;
    seq = 0;
    if (freshest != null) {
      List<Wire.Op> gone = new ArrayList<>();
      Map<String, ActorRef<Wire.ToNode>> alive = NodeRouter.routers(getContext().getSystem());
      for (Wire.Member m : freshest.directory()) {
        String tag = io.pekkosocket.wire.Ids.nodeOf(m.clientId());
        if (members.containsKey(m.clientId()) || reporting.contains(tag)) continue;
        if (alive.containsKey(tag)) {
          // its node is still a member (slow, or unreachable for now): it keeps its members
          Node n = addNode(tag, alive.get(tag));
          n.members++;
          members.put(m.clientId(), new Member(tag, m.userId(), m.extend()));
          continue;
        }
        gone.add(Wire.Op.leave(m.clientId()));
        if (notices) {
          gone.add(Wire.Op.notice(encoder.membership(Ids.newMessageId(), false, m.clientId(), m.userId(),
              m.extend())));
        }
      }
      if (!gone.isEmpty() && !nodes.isEmpty()) deliver(gone, null, null, null);
    }
    if (!members.isEmpty()) {
      getContext().getLog().info("group sequencer started with {} members on {} nodes (epoch {})", members.size(),
          nodes.size(), epoch);
    }
    idleCheck();
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Wire.Join.class, this::onJoin)
        .onMessage(Wire.Leave.class, this::onLeave)
        .onMessage(Wire.Publish.class, this::onPublish)
        .onMessage(NodeGone.class, this::onNodeGone)
        .onMessage(Wire.Wake.class, m -> this)
        .onMessage(Wire.Reported.class, m -> this) // late answer to the resync
        .onMessageEquals(Tick.RESYNC_DONE, () -> this)
        .onMessageEquals(Tick.IDLE, this::onIdle)
        .onMessageEquals(Fence.INSTANCE, this::onFence)
        .build();
  }

  private Node addNode(String node, ActorRef<Wire.ToNode> router) {
    Node n = nodes.get(node);
    if (n != null && n.router.equals(router)) return n;
    if (n != null) getContext().unwatch(n.router);
    Node fresh = new Node(router);
    if (n != null) fresh.members = n.members;
    nodes.put(node, fresh);
    getContext().watchWith(router, new NodeGone(node, router));
    return fresh;
  }

  private Behavior<Object> onJoin(Wire.Join m) {
    Member was = members.get(m.clientId());
    if (was != null) {
      // a member already: its attributes are updated, and its node gets the join again (a node that missed it, e.g.
      // across a restart of this sequencer, is repaired by the next bind)
      members.put(m.clientId(), new Member(was.node(), m.userId(), m.extend()));
      addNode(was.node(), m.router());
      deliver(List.of(Wire.Op.join(m.clientId(), m.userId(), m.extend())), null, was.node(), m.ackTo());
      return this;
    }
    Node n = addNode(m.node(), m.router());
    // a node new to the group also gets the directory as it is (its copy is what a restarted sequencer reads)
    List<Wire.Op> known = null;
    if (n.members++ == 0 && !members.isEmpty()) {
      known = new ArrayList<>(members.size());
      for (Map.Entry<String, Member> e : members.entrySet()) {
        known.add(Wire.Op.join(e.getKey(), e.getValue().userId(), e.getValue().extend()));
      }
    }
    members.put(m.clientId(), new Member(m.node(), m.userId(), m.extend()));
    List<Wire.Op> ops = new ArrayList<>(2);
    ops.add(Wire.Op.join(m.clientId(), m.userId(), m.extend()));
    if (notices) {
      ops.add(Wire.Op.notice(encoder.membership(Ids.newMessageId(), true, m.clientId(), m.userId(), m.extend())));
    }
    if (known == null) {
      deliver(ops, null, m.node(), m.ackTo());
    } else {
      // in the same step as the join, so the node's copy starts with the group's members before its first one
      known.addAll(ops);
      deliver(ops, null, m.node(), m.ackTo(), m.node(), known);
    }
    return this;
  }

  private Behavior<Object> onLeave(Wire.Leave m) {
    Member was = members.remove(m.clientId());
    if (was == null) {
      if (m.ackTo() != null) ack(m.router(), m.ackTo());
      return this;
    }
    List<Wire.Op> ops = new ArrayList<>(2);
    ops.add(Wire.Op.leave(m.clientId()));
    if (notices) {
      ops.add(Wire.Op.notice(encoder.membership(Ids.newMessageId(), false, m.clientId(), was.userId(),
          was.extend())));
    }
    deliver(ops, null, was.node(), m.ackTo());
    Node n = nodes.get(was.node());
    if (n != null && --n.members <= 0) {
      nodes.remove(was.node());
      getContext().unwatch(n.router);
    }
    idleCheck();
    return this;
  }

  private Behavior<Object> onPublish(Wire.Publish m) {
    if (System.currentTimeMillis() > m.expiresAtMillis()) {
      return this; // its caller has been answered 503 by now: never delivered late
    }
    m.tally().tell(new Wire.Expect(List.copyOf(nodes.keySet())));
    if (!nodes.isEmpty()) deliver(List.of(Wire.Op.push(m.text())), m.counts(), null, null);
    return this;
  }

  /** A member node was removed from the cluster: its members leave, with their 1002s to everyone else. */
  private Behavior<Object> onNodeGone(NodeGone m) {
    Node n = nodes.get(m.node());
    if (n == null || !n.router.equals(m.router())) return this;
    nodes.remove(m.node());
    List<Wire.Op> ops = new ArrayList<>();
    var it = members.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      if (!e.getValue().node().equals(m.node())) continue;
      it.remove();
      ops.add(Wire.Op.leave(e.getKey()));
      if (notices) {
        ops.add(Wire.Op.notice(encoder.membership(Ids.newMessageId(), false, e.getKey(), e.getValue().userId(),
            e.getValue().extend())));
      }
    }
    getContext().getLog().info("node {} left the cluster: {} of a group's members left with it", m.node(),
        ops.size() / (notices ? 2 : 1));
    if (!ops.isEmpty() && !nodes.isEmpty()) deliver(ops, null, null, null);
    idleCheck();
    return this;
  }

  /** The next point of the sequence, to every member node; the ack rides with {@code ackNode}'s copy. */
  private void deliver(List<Wire.Op> ops, ActorRef<Wire.Count> countTo, String ackNode, ActorRef<Wire.Ack> ackTo) {
    deliver(ops, countTo, ackNode, ackTo, null, null);
  }

  /** As above; node {@code otherNode} gets {@code otherOps} instead of {@code ops}. */
  private void deliver(List<Wire.Op> ops, ActorRef<Wire.Count> countTo, String ackNode, ActorRef<Wire.Ack> ackTo,
      String otherNode, List<Wire.Op> otherOps) {
    seq++;
    for (Map.Entry<String, Node> e : nodes.entrySet()) {
      sentTo.put(e.getKey(), e.getValue().router);
      boolean acks = e.getKey().equals(ackNode);
      List<Wire.Op> these = e.getKey().equals(otherNode) ? otherOps : ops;
      e.getValue().router.tell(new Wire.Deliver(systemId, group, epoch, seq, these, countTo, acks ? ackTo : null));
    }
  }

  /** An answer that needs no step of the sequence; sent through the node, after what it was sent before. */
  private void ack(ActorRef<Wire.ToNode> router, ActorRef<Wire.Ack> ackTo) {
    if (ackTo == null) return;
    router.tell(new Wire.Deliver(systemId, group, epoch, seq, List.of(), null, ackTo));
  }

  private void idleCheck() {
    if (members.isEmpty()) getContext().scheduleOnce(IDLE, getContext().getSelf(), Tick.IDLE);
  }

  /**
   * Asks every member node to answer after all it was sent before (an ack-only {@link Wire.Deliver}: per pair of
   * actors, Pekko keeps order), then stops. Cluster Sharding holds the group's next messages meanwhile.
   */
  private Behavior<Object> onFence() {
    nodes.forEach((tag, n) -> sentTo.put(tag, n.router));
    if (sentTo.isEmpty()) return Behaviors.stopped();
    java.util.Set<String> waiting = new java.util.HashSet<>(sentTo.keySet());
    ActorRef<Wire.Ack> self = getContext().getSelf().narrow();
    for (ActorRef<Wire.ToNode> r : sentTo.values()) {
      r.tell(new Wire.Deliver(systemId, group, epoch, seq, List.of(), null, self));
    }
    getContext().scheduleOnce(resyncTimeout, getContext().getSelf(), Tick.FENCE_DONE);
    return Behaviors.receive(Object.class)
        .onMessage(Wire.Ack.class, a -> {
          waiting.remove(a.node());
          return waiting.isEmpty() ? Behaviors.stopped() : Behaviors.same();
        })
        .onMessageEquals(Tick.FENCE_DONE, Behaviors::stopped)
        .onMessage(NodeGone.class, g -> {
          waiting.remove(g.node());
          return waiting.isEmpty() ? Behaviors.stopped() : Behaviors.same();
        })
        .build();
  }

  /** Without members for a while: stops (a next message starts it again, which asks the nodes first). */
  private Behavior<Object> onIdle() {
    if (members.isEmpty()) shard.tell(new ClusterSharding.Passivate<>(getContext().getSelf()));
    return this;
  }
}

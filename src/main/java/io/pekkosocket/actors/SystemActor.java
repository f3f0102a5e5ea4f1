package io.pekkosocket.actors;

import io.pekkosocket.wire.CloseCode;
import io.pekkosocket.Settings;
import io.pekkosocket.cluster.ClusterNode;
import io.pekkosocket.cluster.Wire;
import io.pekkosocket.ops.Faults;
import io.pekkosocket.ops.Metrics;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.wire.Ids;
import io.pekkosocket.wire.Push;
import io.pekkosocket.ws.OutboundQueue;
import io.pekkosocket.ws.Frame;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One system (tenant). It owns the system's clients ({@link ClientActor} children) and groups ({@link GroupActor}
 * children) and is the single source of truth for who is connected and who is in which group. Every HTTP call for
 * the system is one message to it; it answers from its own state or hands the call to the group that fans out.
 * Nothing here is visible to any other system.
 */
public final class SystemActor extends AbstractBehavior<SystemActor.Command> {

  public sealed interface Command {}

  /**
   * An HTTP API call: always answered on {@code replyTo}, exactly once. Once its {@code deadline} has passed it is
   * answered {@link ApiResult#BUSY} and not run (its caller is being answered 503 anyway).
   */
  public sealed interface ApiCommand<R> extends Command {
    Deadline deadline();

    ActorRef<ApiResult<R>> replyTo();
  }

  // ---- from connections ----

  /**
   * A WebSocket handshake asks to become a client ({@code userId}: the connect token's, or ""), with a new
   * {@code clientId}, or to resume the session of {@code resume} (a verified token's claim; null when it does not
   * ask). Answered on {@code replyTo}: {@link Admitted} by the (new or resumed) {@link ClientActor}, or
   * {@link NotAdmitted}.
   */
  public record Connect(String clientId, String userId, ClientActor.Opening opening, Resuming resume,
      ActorRef<Admission> replyTo) implements Command {
    /** A plain handshake: no resumption. */
    public Connect(String clientId, String userId, ActorRef<Admission> replyTo) {
      this(clientId, userId, ClientActor.Opening.PLAIN, null, replyTo);
    }
  }

  /** How a handshake's {@link Connect} was answered. */
  public sealed interface Admission {}

  /**
   * A client exists, its welcome queued (a new one), or its session taken over (a resume): the socket writes
   * {@code preamble} first (a resume's welcome and replayed frames), then serves {@code queue}, and reports to
   * {@code client} as socket number {@code epoch}.
   */
  public record Admitted(ActorRef<ClientActor.Command> client, OutboundQueue queue, List<Frame> preamble, int epoch)
      implements Admission {}

  /** No client: the socket is upgraded and closed at once with {@code code}. */
  public record NotAdmitted(int code, String reason) implements Admission {}

  /** The systemId is not registered (decided by the Guardian): the -1001 frame, then 1008. */
  public record UnknownSystem() implements Admission {}

  /**
   * What a handshake that resumes names: the session's client and its token's nonce (a verified token), and the
   * last messageId the client processed ("" for none after its welcome).
   */
  public record Resuming(String clientId, String nonce, String last) {}

  /** From a session that could not be resumed by {@code connect}: a fresh client is made for it instead. */
  public record ResumeRefused(Connect connect) implements Command {}

  /** From a new ClientActor, its welcome queued: the client enters the index. */
  public record Registered(String clientId, ActorRef<ClientActor.Command> ref, OutboundQueue queue)
      implements Command {}

  /**
   * From a ClientActor whose connection ended: it leaves the index and its groups (1002 there, with the client's
   * {@code userId} and {@code extend}), and the ClientActor is released.
   */
  public record Left(String clientId, String userId, String extend) implements Command {}

  // ---- the HTTP API ----

  public record SendToClient(String clientId, Push push, Deadline deadline, ActorRef<ApiResult<ApiResult.ClientDelivery>> replyTo)
      implements ApiCommand<ApiResult.ClientDelivery> {}

  public record SendToClients(List<String> clientIds, Push push, Deadline deadline, ActorRef<ApiResult<ApiResult.ClientsDelivery>> replyTo)
      implements ApiCommand<ApiResult.ClientsDelivery> {}

  public record SendToGroup(String groupName, Push push, Deadline deadline, ActorRef<ApiResult<ApiResult.FanOutDelivery>> replyTo)
      implements ApiCommand<ApiResult.FanOutDelivery> {}

  public record SendToSystem(Push push, Deadline deadline, ActorRef<ApiResult<ApiResult.FanOutDelivery>> replyTo) implements ApiCommand<ApiResult.FanOutDelivery> {}

  /**
   * {@code bind_to_group}. The SystemActor runs it (membership is its index); one that joins or finds the client a
   * member already is answered by the group, once the frames the group was sent before (the joiner's 1001s) are
   * queued.
   */
  public record Bind(String clientId, String groupName, String userId, String extend, Deadline deadline,
      ActorRef<ApiResult<ApiResult.Empty>> replyTo) implements ApiCommand<ApiResult.Empty> {}

  public record Unbind(String clientId, String groupName, Deadline deadline, ActorRef<ApiResult<ApiResult.Empty>> replyTo)
      implements ApiCommand<ApiResult.Empty> {}

  public record GetOnlineList(String groupName, Deadline deadline, ActorRef<ApiResult<ApiResult.OnlineList>> replyTo)
      implements ApiCommand<ApiResult.OnlineList> {}

  public record GetAllGroups(Deadline deadline, ActorRef<ApiResult<ApiResult.AllGroups>> replyTo) implements ApiCommand<ApiResult.AllGroups> {}

  public record CloseClient(String clientId, Deadline deadline, ActorRef<ApiResult<ApiResult.Empty>> replyTo)
      implements ApiCommand<ApiResult.Empty> {}

  // ---- cluster mode ----

  /** A command from another node, or from a group's sequencer (cluster mode): see {@link Wire.ToNode}. */
  public record FromCluster(Wire.ToNode command) implements Command {}

  /** A node left the cluster: each group with members here wakes its sequencer (it may have been on that node). */
  public enum WakeGroups implements Command { INSTANCE }

  // ---- operations ----

  /**
   * Server shutdown: from now on nobody gets 1002, and every connection is closed with {@code code}, spread evenly
   * over {@code window} so that clients do not all reconnect at once.
   */
  public record Drain(int code, String reason, java.time.Duration window) implements Command {}

  private enum DrainTick implements Command { INSTANCE }

  /** What the system holds right now (tests, metrics). */
  public record GetStats(ActorRef<Stats> replyTo) implements Command {}

  public record Stats(int clients, int groups, int clientChildren, int groupChildren, int memberships) {}

  private record ClientTerminated(String clientId) implements Command {}

  /** A group's actor stopped: expected after its last member left, a loss (an {@code Error}) otherwise. */
  private record GroupTerminated(String groupName, ActorRef<GroupActor.Command> ref) implements Command {}

  /** A group has handled a Join or Leave a client's actor sent it on this system's behalf (see {@link Group#routed}). */
  private record Routed(String groupName, ActorRef<GroupActor.Command> ref) implements Command {}

  /** An emptied group has handled everything sent to it up to its {@code emptied}-th time of becoming empty. */
  private record GroupIdle(String groupName, ActorRef<GroupActor.Command> ref, long emptied) implements Command {}

  /**
   * A client's entry in the index: where to send its frames (the data plane) and commands (its ClientActor), and
   * its memberships. Its identity and attributes are its ClientActor's.
   */
  private static final class Client {
    final ActorRef<ClientActor.Command> ref;
    final OutboundQueue queue;
    final Set<String> groups = new LinkedHashSet<>();
    /**
     * Its close has been decided (the socket is closing, or close_client asked for it): for the API it is gone from
     * now on (binds are no-ops, lists leave it out), though its 1002s wait for its ClientActor's stop.
     */
    boolean leaving;

    Client(ActorRef<ClientActor.Command> ref, OutboundQueue queue) {
      this.ref = ref;
      this.queue = queue;
    }
  }

  /**
   * A group's one incarnation: its actor and its member ids (join order). After its last member leaves it stays
   * (empty) until its actor answers that it has handled everything sent to it (see {@link #leaveGroup}), so a group
   * bound again in the meantime is served by the same actor: never two GroupActors for one name at once.
   */
  private static final class Group {
    private final ActorRef<GroupActor.Command> ref;
    private final Set<String> members = new LinkedHashSet<>();
    /** How many times it became empty; only the answer to the latest time can stop it. */
    long emptied;
    /**
     * Joins and Leaves on their way to the group through clients' actors (binds and unbinds): the group has not
     * been sent everything until they have arrived, so it is not asked whether it is idle while any is on its way.
     */
    int routed;
    /** Cluster mode: each member's join (its place in the group's sequence, and its attributes). */
    final Map<String, Joined> joined = new HashMap<>();
    /** Cluster mode: every member of the group on any node (clientId to its attributes), as the sequence says. */
    final Map<String, Joined> directory = new LinkedHashMap<>();
    /** Cluster mode: the last point of the group's sequence applied here. */
    int epoch;
    long seq;

    Group(ActorRef<GroupActor.Command> ref) {
      this.ref = ref;
    }

    ActorRef<GroupActor.Command> ref() {
      return ref;
    }

    Set<String> members() {
      return members;
    }
  }

  /** Where a member joined its group's sequence, and with which attributes (cluster mode). */
  private record Joined(int epoch, long seq, String userId, String extend) {}

  /** Child actors spawned and not yet terminated (both kinds are watched), for {@link GetStats}. */
  private int clientActors;
  private int groupActors;
  private final String systemId;
  private final Settings settings;
  private final FrameEncoder encoder;
  private final ClientActor.QueueLimits queueLimits;
  private final Sessions sessions;
  private final Metrics metrics;
  private final Faults faults;
  /** Cluster mode: this node's part in it; null on a single node. */
  private final ClusterNode cluster;
  private final java.util.ArrayDeque<Client> toDrain = new java.util.ArrayDeque<>();
  private int drainBatch;
  private Drain drain;
  private final Map<String, Client> clients = new HashMap<>();
  private final Map<String, Group> groups = new LinkedHashMap<>();
  private long groupSeq;
  private boolean draining;

  /**
   * A failure while handling one message is logged and the actor resumes with its state as it was: handlers check
   * everything that can fail before they change state, so a failure leaves no ghost and loses no member. An
   * {@code Error} stops the actor: its connections (children) are closed with 1011 and the Guardian, which watches
   * it, starts a fresh one for the system.
   */
  public static Behavior<Command> create(String systemId, Settings settings, Sessions sessions, Metrics metrics,
      Faults faults) {
    return create(systemId, settings, sessions, metrics, faults, null);
  }

  /** As above; in cluster mode with this node's {@link ClusterNode}. */
  public static Behavior<Command> create(String systemId, Settings settings, Sessions sessions, Metrics metrics,
      Faults faults, ClusterNode cluster) {
    return Behaviors.withMdc(Command.class, Map.of("systemId", systemId),
        Behaviors.supervise(Behaviors.<Command>setup(ctx ->
                new SystemActor(ctx, systemId, settings, sessions, metrics, faults, cluster)))
            .onFailure(Exception.class, SupervisorStrategy.resume()));
  }

  private SystemActor(ActorContext<Command> ctx, String systemId, Settings settings, Sessions sessions,
      Metrics metrics, Faults faults, ClusterNode cluster) {
    super(ctx);
    this.cluster = cluster;
    this.sessions = sessions;
    this.metrics = metrics;
    this.faults = faults;
    this.systemId = systemId;
    this.settings = settings;
    this.encoder = new FrameEncoder(settings.escapeHtml(), settings.trailingNewline());
    // the route answers a handshake as soon as it is admitted: a socket not attached long after that never will be
    this.queueLimits = new ClientActor.QueueLimits(settings.outboundFrames(), settings.outboundBytes(), metrics,
        settings.askTimeout().plusSeconds(10));
    faults.check("system-start", systemId); // test-only: a failure while the system starts
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Connect.class, this::onConnect)
        .onMessage(Registered.class, this::onRegistered)
        .onMessage(ResumeRefused.class, m -> admit(m.connect(), ClientActor.Opening.RESUME_REFUSED))
        .onMessage(Left.class, this::onLeft)
        .onMessage(ClientTerminated.class, this::onClientTerminated)
        .onMessage(GroupTerminated.class, this::onGroupTerminated)
        .onMessage(GroupIdle.class, this::onGroupIdle)
        .onMessage(Routed.class, this::onRouted)
        .onMessage(SendToClient.class, this::onSendToClient)
        .onMessage(SendToClients.class, this::onSendToClients)
        .onMessage(SendToGroup.class, this::onSendToGroup)
        .onMessage(SendToSystem.class, this::onSendToSystem)
        .onMessage(Bind.class, this::onBind)
        .onMessage(Unbind.class, this::onUnbind)
        .onMessage(GetOnlineList.class, this::onGetOnlineList)
        .onMessage(GetAllGroups.class, this::onGetAllGroups)
        .onMessage(CloseClient.class, this::onCloseClient)
        .onMessage(Drain.class, this::onDrain)
        .onMessageEquals(DrainTick.INSTANCE, this::onDrainTick)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(FromCluster.class, this::onFromCluster)
        .onMessageEquals(WakeGroups.INSTANCE, () -> {
          if (cluster != null) groups.keySet().forEach(g -> cluster.sequencer(systemId, g).tell(new Wire.Wake(systemId, g)));
          return this;
        })
        .onSignal(PostStop.class, this::onPostStop)
        .build();
  }

  private Behavior<Command> onConnect(Connect m) {
    if (draining) {
      m.replyTo().tell(new NotAdmitted(CloseCode.SERVICE_RESTART, "service restart"));
      return this;
    }
    if (m.resume() != null) {
      Client c = clients.get(m.resume().clientId());
      if (c != null && !c.leaving) {
        c.ref.tell(new ClientActor.Resume(m.resume().nonce(), m.resume().last(), m));
        return this;
      }
      return admit(m, ClientActor.Opening.RESUME_REFUSED);
    }
    return admit(m, m.opening());
  }

  /** A new client for {@code m}, within the system's limit. */
  private Behavior<Command> admit(Connect m, ClientActor.Opening opening) {
    if (draining) {
      m.replyTo().tell(new NotAdmitted(CloseCode.SERVICE_RESTART, "service restart"));
      return this;
    }
    // every ClientActor counts until it has stopped: one whose connection is ending is not yet replaced
    if (settings.connectionsPerSystem() > 0 && clientActors >= settings.connectionsPerSystem()) {
      m.replyTo().tell(new NotAdmitted(CloseCode.TRY_AGAIN_LATER, "too many connections"));
      return this;
    }
    ActorRef<ClientActor.Command> ref = getContext().spawnAnonymous(ClientActor.create(m.clientId(), systemId,
        m.userId(), getContext().getSelf(), m.replyTo(), queueLimits, encoder, sessions, opening));
    getContext().watchWith(ref, new ClientTerminated(m.clientId()));
    clientActors++;
    return this;
  }

  private Behavior<Command> onRegistered(Registered m) {
    clients.put(m.clientId(), new Client(m.ref(), m.queue()));
    if (draining) m.ref().tell(new ClientActor.Close(drain.code(), drain.reason())); // the drain began meanwhile
    getContext().getLog().debug("system {}: client {} connected", systemId, m.clientId());
    return this;
  }

  private Behavior<Command> onLeft(Left m) {
    Client c = clients.remove(m.clientId());
    if (c != null) {
      for (String groupName : c.groups) {
        if (cluster != null) leaveClusterGroup(groupName, m.clientId());
        else leaveGroup(groupName, m.clientId(), m.userId(), m.extend(), !draining);
      }
      c.ref.tell(ClientActor.Release.INSTANCE);
    }
    return this;
  }

  /**
   * A ClientActor stopped. Normally it was released after {@link Left}; one still in the index was lost (an
   * {@code Error}): it leaves its groups, whose notices carry the attributes it joined them with.
   */
  private Behavior<Command> onClientTerminated(ClientTerminated m) {
    clientActors--;
    Client c = clients.remove(m.clientId());
    if (c == null) return this;
    for (String groupName : c.groups) {
      if (cluster != null) leaveClusterGroup(groupName, m.clientId());
      else leaveGroup(groupName, m.clientId(), null, null, !draining);
    }
    return this;
  }

  /**
   * The deadline check that comes first in every API handler: a command past its deadline is answered busy and does
   * nothing. (The test-only fault hook runs before it: it stands for whatever held the actor until now.)
   */
  private static <R> boolean expired(ApiCommand<R> m) {
    if (!m.deadline().passed()) return false;
    m.replyTo().tell(ApiResult.busy());
    return true;
  }

  private Behavior<Command> onSendToClient(SendToClient m) {
    faults.check("system", systemId);
    if (expired(m)) return this;
    faults.check("system-started", systemId); // test-only: a started command that takes long
    String messageId = Ids.newMessageId();
    Client c = clients.get(m.clientId());
    boolean delivered = c != null && c.queue.offer(Frame.text(encoder.push(messageId, m.push())));
    m.replyTo().tell(ApiResult.ok(new ApiResult.ClientDelivery(messageId, delivered)));
    return this;
  }

  private Behavior<Command> onSendToClients(SendToClients m) {
    if (expired(m)) return this;
    Map<String, String> messageIds = new LinkedHashMap<>();
    int delivered = 0;
    // encoded once: each recipient's frame shares the bytes and differs only in its messageId
    Frame.PerRecipient frames = null;
    for (String clientId : m.clientIds()) {
      if (messageIds.containsKey(clientId)) continue; // one frame per recipient, even if listed twice
      String messageId = Ids.newMessageId();
      messageIds.put(clientId, messageId);
      Client c = clients.get(clientId);
      if (c == null) continue;
      if (frames == null) frames = new Frame.PerRecipient(encoder.push(messageId, m.push()), messageId);
      if (c.queue.offer(frames.frame(messageId))) delivered++;
    }
    m.replyTo().tell(ApiResult.ok(new ApiResult.ClientsDelivery(messageIds, delivered)));
    return this;
  }

  private Behavior<Command> onSendToGroup(SendToGroup m) {
    Group g = groups.get(m.groupName());
    if (g == null || g.members().isEmpty()) { // no such group, or one emptied and about to stop: nobody to send to
      if (expired(m)) return this;
      m.replyTo().tell(ApiResult.ok(new ApiResult.FanOutDelivery(Ids.newMessageId(), 0)));
    } else if (m.deadline().abandoned()) { // the group starts it (or not): this actor only forwards it
      m.replyTo().tell(ApiResult.busy());
    } else {
      g.ref().tell(new GroupActor.Send(m.push(), m.deadline(), m.replyTo()));
    }
    return this;
  }


  private Behavior<Command> onSendToSystem(SendToSystem m) {
    faults.check("system", systemId);
    if (expired(m)) return this;
    String messageId = Ids.newMessageId();
    int delivered = offerToAll(Frame.text(encoder.push(messageId, m.push())));
    m.replyTo().tell(ApiResult.ok(new ApiResult.FanOutDelivery(messageId, delivered)));
    return this;
  }

  private Behavior<Command> onBind(Bind m) {
    faults.check("system", systemId);
    if (expired(m)) return this;
    Client c = clients.get(m.clientId());
    if (c == null || c.leaving) {
      // As in the original services: binding an unknown (or already gone) client is a no-op success. One that is
      // leaving gets no 1001 announced to a group it is about to leave.
      m.replyTo().tell(ApiResult.okEmptyList());
      return this;
    }
    if (!c.groups.contains(m.groupName()) && c.groups.size() >= settings.maxGroupsPerClient()) {
      m.replyTo().tell(ApiResult.error("too many groups for this client (limit "
          + settings.maxGroupsPerClient() + ")"));
      return this;
    }
    Group g = groups.get(m.groupName());
    if (c.groups.add(m.groupName())) {
      if (g == null) {
        g = spawnGroup(m.groupName());
        groups.put(m.groupName(), g);
      }
      g.members().add(m.clientId());
    }
    // The ClientActor sets the client's attributes and sends the group the Join (a no-op but for the attributes if
    // it is a member already); the group answers once it has queued the 1001s sent before, so a push sent after the
    // answer comes after them. The bind passed its deadline check above: it is started and its caller waits.
    g.routed++;
    c.ref.tell(new ClientActor.Join(g.ref(), m.userId(), m.extend(), m.replyTo(), new Routed(m.groupName(), g.ref())));
    return this;
  }

  private Behavior<Command> onUnbind(Unbind m) {
    faults.check("system", systemId);
    if (expired(m)) return this;
    Client c = clients.get(m.clientId());
    Group g = groups.get(m.groupName());
    if (c == null || g == null || !c.groups.remove(m.groupName())) {
      m.replyTo().tell(ApiResult.okEmptyList());
      return this;
    }
    g.members().remove(m.clientId());
    // through the ClientActor, which has the attributes for the 1002 and sent the group this client's Join; the
    // group answers after the Leave, so a group push sent after the answer no longer reaches the client
    g.routed++;
    c.ref.tell(new ClientActor.Leave(g.ref(), !draining, m.replyTo(), new Routed(m.groupName(), g.ref())));
    return this;
  }

  private Behavior<Command> onGetOnlineList(GetOnlineList m) {
    if (expired(m)) return this;
    Group g = groups.get(m.groupName());
    List<String> list = g == null ? List.of() : present(g.members());
    m.replyTo().tell(ApiResult.ok(new ApiResult.OnlineList(list.size(), list)));
    return this;
  }

  private Behavior<Command> onGetAllGroups(GetAllGroups m) {
    if (expired(m)) return this;
    Map<String, List<String>> all = new LinkedHashMap<>();
    groups.forEach((name, g) -> {
      List<String> members = present(g.members());
      if (!members.isEmpty()) all.put(name, members);
    });
    m.replyTo().tell(ApiResult.ok(new ApiResult.AllGroups(all)));
    return this;
  }

  /** Members in join order, without the ones that are leaving. */
  private List<String> present(Set<String> members) {
    List<String> out = new java.util.ArrayList<>(members.size());
    for (String id : members) {
      Client c = clients.get(id);
      if (c != null && !c.leaving) out.add(id);
    }
    return out;
  }

  private Behavior<Command> onCloseClient(CloseClient m) {
    if (expired(m)) return this;
    Client c = clients.get(m.clientId());
    if (c != null && !c.leaving) {
      c.leaving = true;
      c.ref.tell(new ClientActor.Close(CloseCode.NORMAL, "closed by server"));
    }
    m.replyTo().tell(ApiResult.okEmptyObject());
    return this;
  }

  private Behavior<Command> onDrain(Drain m) {
    if (draining) return this;
    draining = true;
    drain = m;
    toDrain.addAll(clients.values());
    long ticks = Math.max(1, m.window().toMillis() / DRAIN_TICK.toMillis());
    drainBatch = (int) Math.max(1, (toDrain.size() + ticks - 1) / ticks);
    return onDrainTick();
  }

  private Behavior<Command> onDrainTick() {
    for (int i = 0; i < drainBatch && !toDrain.isEmpty(); i++) {
      toDrain.poll().ref.tell(new ClientActor.Close(drain.code(), drain.reason()));
    }
    if (!toDrain.isEmpty()) getContext().scheduleOnce(DRAIN_TICK, getContext().getSelf(), DrainTick.INSTANCE);
    return this;
  }

  private static final java.time.Duration DRAIN_TICK = java.time.Duration.ofMillis(100);

  private Behavior<Command> onGetStats(GetStats m) {
    int memberships = 0;
    for (Group g : groups.values()) memberships += g.members().size();
    m.replyTo().tell(new Stats(clients.size(), groups.size(), clientActors, groupActors, memberships));
    return this;
  }

  /**
   * A group lost without its last member leaving (an {@code Error} stopped it): its members' connections are closed
   * with 1011, since what they were told about the group is gone, and the group is dropped. Each member leaves its
   * other groups when its connection ends, as any client does (1002 there). A group stopped after its last member
   * left was removed already, and a group of the same name made since has another ref: both are ignored.
   */
  private Behavior<Command> onGroupTerminated(GroupTerminated m) {
    groupActors--;
    Group g = groups.get(m.groupName());
    if (g == null || !g.ref().equals(m.ref())) return this;
    groups.remove(m.groupName());
    metrics.groupStopped();
    getContext().getLog().error("system {}: a group's actor was lost; closing its {} members with 1011", systemId,
        g.members().size());
    for (String clientId : g.members()) {
      Client c = clients.get(clientId);
      if (c == null) continue;
      if (cluster == null) c.groups.remove(m.groupName()); // in cluster mode its end tells the sequencer it left
      c.leaving = true;
      c.ref.tell(new ClientActor.Close(CloseCode.INTERNAL_ERROR, "internal error"));
    }
    return this;
  }

  /** Stopped (an {@code Error}, or the server's end): the groups die with it and are no longer counted. */
  private Behavior<Command> onPostStop(PostStop signal) {
    if (cluster != null) {
      // the sequencers must hear that this node's clients are gone (their connections are closed with this actor)
      clients.forEach((id, c) -> c.groups.forEach(g ->
          cluster.sequencer(systemId, g).tell(new Wire.Leave(systemId, g, id, cluster.router(), null))));
    }
    for (int i = 0; i < groups.size(); i++) metrics.groupStopped();
    groups.clear();
    return this;
  }

  private Group spawnGroup(String groupName) {
    ActorRef<GroupActor.Command> ref = getContext().spawn(
        GroupActor.create(systemId, encoder, cluster == null && settings.membershipNotices(), faults),
        "g-" + (++groupSeq));
    getContext().watchWith(ref, new GroupTerminated(groupName, ref));
    groupActors++;
    metrics.groupStarted();
    return new Group(ref);
  }

  /**
   * Takes a client out of a group. The last member's leave does not stop the group at once: its actor may still be
   * fanning out what it was sent before, and a GroupActor started beside it by a bind in the meantime would let two
   * members see the two actors' frames in opposite orders (PROTOCOL.md "Order"). So the group is asked to answer
   * once it has handled everything sent to it ({@link #onGroupIdle}); a bind before that joins the same actor.
   */
  private void leaveGroup(String groupName, String clientId, String userId, String extend, boolean notify) {
    Group g = groups.get(groupName);
    if (g == null || !g.members().remove(clientId)) return;
    g.ref().tell(new GroupActor.Leave(clientId, userId, extend, notify));
    askIfIdle(groupName, g);
  }

  /**
   * An empty group with nothing on its way to it through clients' actors is asked to answer once it has handled
   * everything it was sent ({@link #onGroupIdle}); the question comes after all of it from this actor.
   */
  private void askIfIdle(String groupName, Group g) {
    if (!g.members().isEmpty() || g.routed > 0) return;
    g.ref().tell(new GroupActor.Answer<>(new GroupIdle(groupName, g.ref(), ++g.emptied), getContext().getSelf()));
  }

  /** A Join or Leave sent through a client's actor has been handled by its group; an empty group may now be idle. */
  private Behavior<Command> onRouted(Routed m) {
    Group g = groups.get(m.groupName());
    if (g == null || !g.ref().equals(m.ref())) return this;
    g.routed--;
    askIfIdle(m.groupName(), g);
    return this;
  }

  /**
   * An emptied group is idle: if it is still the same incarnation, still empty, and not emptied again since (so it
   * has been sent nothing after the answer: an empty group is sent no pushes), it stops. Its actor has nothing left
   * to send, so a bind from now on may start a new one. One bound again meanwhile carries on.
   */
  private Behavior<Command> onGroupIdle(GroupIdle m) {
    Group g = groups.get(m.groupName());
    if (g == null || !g.ref().equals(m.ref()) || g.emptied != m.emptied() || !g.members().isEmpty()
        || g.routed > 0) {
      return this;
    }
    groups.remove(m.groupName());
    g.ref().tell(GroupActor.Stop.INSTANCE);
    metrics.groupStopped();
    return this;
  }

  // ---- cluster mode: commands from other nodes and from group sequencers (docs/ARCHITECTURE.md "Cluster mode") ----

  private Behavior<Command> onFromCluster(FromCluster m) {
    Wire.ToNode command = m.command();
    if (command instanceof Wire.Deliver d) onDeliver(d);
    else if (command instanceof Wire.Offer o) onOffer(o);
    else if (command instanceof Wire.SystemPush p) onSystemPush(p);
    else if (command instanceof Wire.Close c) onClusterClose(c);
    else if (command instanceof Wire.Bind b) onClusterBind(b);
    else if (command instanceof Wire.Unbind u) onClusterUnbind(u);
    else if (command instanceof Wire.ListMembers l) onListMembers(l);
    else if (command instanceof Wire.Report r) onReport(r);
    return this;
  }

  private String tag() {
    return cluster == null ? settings.nodeId() : cluster.tag();
  }

  /** A push for clients of this node; the frame of each is the template's with that client's messageId. */
  private void onOffer(Wire.Offer m) {
    Frame.PerRecipient frames = null;
    int delivered = 0;
    for (int i = 0; i < m.clientIds().size(); i++) {
      Client c = clients.get(m.clientIds().get(i));
      if (c == null) continue;
      String messageId = m.messageIds().get(i);
      Frame frame;
      if (messageId.equals(m.templateMessageId())) {
        frame = Frame.text(m.text());
      } else {
        if (frames == null) frames = new Frame.PerRecipient(m.text(), m.templateMessageId());
        frame = frames.frame(messageId);
      }
      if (c.queue.offer(frame)) delivered++;
    }
    m.replyTo().tell(new Wire.Count(tag(), delivered));
  }

  private void onSystemPush(Wire.SystemPush m) {
    m.replyTo().tell(new Wire.Count(tag(), offerToAll(Frame.text(m.text()))));
  }

  /** Offers one frame to every client of the system here; how many queues accepted it. */
  private int offerToAll(Frame frame) {
    int delivered = 0;
    for (Client c : clients.values()) {
      if (c.queue.offer(frame)) delivered++;
    }
    return delivered;
  }

  private void onClusterClose(Wire.Close m) {
    Client c = clients.get(m.clientId());
    boolean found = c != null && !c.leaving;
    if (found) {
      c.leaving = true;
      c.ref.tell(new ClientActor.Close(CloseCode.NORMAL, "closed by server"));
    }
    m.replyTo().tell(new Wire.Count(tag(), found ? 1 : 0));
  }

  /**
   * A bind of a client of this node: checked here (its limit), decided by the group's sequencer, which sends the join
   * back in the group's sequence; the answer rides with it, so it comes once the joiner's 1001 is queued.
   */
  private void onClusterBind(Wire.Bind m) {
    Client c = clients.get(m.clientId());
    if (c == null || c.leaving) {
      m.replyTo().tell(new Wire.Ack(tag(), null)); // as on one node: an unknown client's bind is a no-op
      return;
    }
    if (!c.groups.contains(m.group()) && c.groups.size() >= settings.maxGroupsPerClient()) {
      m.replyTo().tell(new Wire.Ack(tag(), "too many groups for this client (limit "
          + settings.maxGroupsPerClient() + ")"));
      return;
    }
    c.groups.add(m.group());
    cluster.sequencer(systemId, m.group()).tell(new Wire.Join(systemId, m.group(), m.clientId(), tag(),
        m.userId(), m.extend(), cluster.router(), m.replyTo()));
  }

  private void onClusterUnbind(Wire.Unbind m) {
    Client c = clients.get(m.clientId());
    if (c == null || !c.groups.remove(m.group())) {
      m.replyTo().tell(new Wire.Ack(tag(), null));
      return;
    }
    cluster.sequencer(systemId, m.group()).tell(new Wire.Leave(systemId, m.group(), m.clientId(), cluster.router(),
        m.replyTo()));
  }

  /** A client of this node whose connection ended leaves its group: here at once, and at the sequencer. */
  private void leaveClusterGroup(String groupName, String clientId) {
    cluster.sequencer(systemId, groupName).tell(new Wire.Leave(systemId, groupName, clientId, cluster.router(),
        null));
    Group g = groups.get(groupName);
    if (g == null || !g.members().remove(clientId)) return;
    g.joined.remove(clientId);
    g.ref().tell(new GroupActor.Leave(clientId, null, null, false));
    askIfIdle(groupName, g);
  }

  private void onListMembers(Wire.ListMembers m) {
    Map<String, List<Wire.Position>> out = new LinkedHashMap<>();
    if (m.group() != null) {
      Group g = groups.get(m.group());
      if (g != null) out.put(m.group(), positions(g));
    } else {
      groups.forEach((name, g) -> {
        List<Wire.Position> p = positions(g);
        if (!p.isEmpty()) out.put(name, p);
      });
    }
    m.replyTo().tell(new Wire.Members(tag(), out));
  }

  private List<Wire.Position> positions(Group g) {
    List<Wire.Position> out = new java.util.ArrayList<>(g.members().size());
    for (String id : present(g.members())) {
      Joined j = g.joined.get(id);
      out.add(new Wire.Position(id, j.epoch(), j.seq()));
    }
    return out;
  }

  private void onReport(Wire.Report m) {
    Group g = groups.get(m.group());
    if (g != null && m.epochFloor() >= g.epoch) {
      // a sequencer has started again (its epochs are above the floor): frames still on their way from an earlier
      // one are dropped from now on, so what this report says stays true
      g.epoch = m.epochFloor();
      g.seq = Long.MAX_VALUE;
    }
    if (g == null) {
      m.replyTo().tell(new Wire.Reported(tag(), cluster.router(), 0, 0, List.of(), List.of()));
      return;
    }
    List<Wire.Member> members = new java.util.ArrayList<>(g.members().size());
    for (String id : g.members()) {
      Joined j = g.joined.get(id);
      members.add(new Wire.Member(id, j.userId(), j.extend(), j.epoch(), j.seq()));
    }
    List<Wire.Member> directory = new java.util.ArrayList<>(g.directory.size());
    g.directory.forEach((id, j) -> directory.add(new Wire.Member(id, j.userId(), j.extend(), j.epoch(), j.seq())));
    m.replyTo().tell(new Wire.Reported(tag(), cluster.router(), g.epoch, g.seq, members, directory));
  }

  /**
   * The next point of a group's sequence, applied in order: joins and leaves of this node's clients, then frames to
   * this node's members through the group's actor (which counts a push for its tally). A point at or before the
   * last one applied (a late frame of a sequencer that has since been started again) is dropped.
   */
  private void onDeliver(Wire.Deliver d) {
    Group g = groups.get(d.group());
    if (d.ops().isEmpty()) { // an answer only: after everything sent to the group before it
      answer(g, d.ackTo());
      return;
    }
    if (g != null && (d.epoch() < g.epoch || (d.epoch() == g.epoch && d.seq() <= g.seq))) {
      metrics.clusterStaleFrames();
      if (d.countTo() != null) d.countTo().tell(new Wire.Count(tag(), 0));
      // a bind or unbind of the previous incarnation that did not take effect: its caller may retry
      if (d.ackTo() != null) d.ackTo().tell(new Wire.Ack(tag(), ApiResult.BUSY.msg()));
      return;
    }
    if (g == null && joinsHere(d)) {
      // a first member here: the group's state starts before the step's other joins, so the copy of the directory
      // this step brings is kept whole
      g = spawnGroup(d.group());
      groups.put(d.group(), g);
    }
    boolean counted = false;
    for (Wire.Op op : d.ops()) {
      switch (op.kind()) {
        case JOIN -> {
          Client c = clients.get(op.clientId());
          if (g != null) {
            Joined was = g.directory.get(op.clientId());
            g.directory.put(op.clientId(), was == null ? new Joined(d.epoch(), d.seq(), op.userId(), op.extend())
                : new Joined(was.epoch(), was.seq(), op.userId(), op.extend()));
          }
          if (c == null || c.leaving || !c.groups.contains(d.group())) break;
          if (g == null) {
            g = spawnGroup(d.group());
            groups.put(d.group(), g);
            g.directory.put(op.clientId(), new Joined(d.epoch(), d.seq(), op.userId(), op.extend()));
          }
          Joined was = g.joined.get(op.clientId());
          g.joined.put(op.clientId(), was == null ? new Joined(d.epoch(), d.seq(), op.userId(), op.extend())
              : new Joined(was.epoch(), was.seq(), op.userId(), op.extend()));
          if (g.members().add(op.clientId())) g.ref().tell(new GroupActor.Join(op.clientId(), c.queue, null, null));
        }
        case LEAVE -> {
          if (g != null) g.directory.remove(op.clientId());
          if (g != null && g.members().remove(op.clientId())) {
            g.joined.remove(op.clientId());
            g.ref().tell(new GroupActor.Leave(op.clientId(), null, null, false));
          }
        }
        case NOTICE -> {
          if (g != null && !draining && !g.members().isEmpty()) g.ref().tell(new GroupActor.Fan(op.text(), null, tag()));
        }
        case PUSH -> {
          if (g != null && !g.members().isEmpty() && d.countTo() != null) {
            g.ref().tell(new GroupActor.Fan(op.text(), d.countTo(), tag()));
            counted = true;
          }
        }
      }
    }
    if (d.countTo() != null && !counted) d.countTo().tell(new Wire.Count(tag(), 0));
    if (g != null) {
      g.epoch = d.epoch();
      g.seq = d.seq();
    }
    answer(g, d.ackTo());
    if (g != null && g.members().isEmpty()) askIfIdle(d.group(), g);
  }

  /** Whether a step makes a client of this node a member (so the group's state here must exist). */
  private boolean joinsHere(Wire.Deliver d) {
    for (Wire.Op op : d.ops()) {
      if (op.kind() != Wire.Kind.JOIN) continue;
      Client c = clients.get(op.clientId());
      if (c != null && !c.leaving && c.groups.contains(d.group())) return true;
    }
    return false;
  }

  /** Answers a bind or unbind once the group has queued what it was sent before (at once when no group is here). */
  private void answer(Group g, ActorRef<Wire.Ack> ackTo) {
    if (ackTo == null) return;
    Wire.Ack ack = new Wire.Ack(tag(), null);
    if (g != null) g.ref().tell(new GroupActor.Answer<>(ack, ackTo));
    else ackTo.tell(ack);
  }
}

package io.pekkosocket.cluster;

import io.pekkosocket.Guardian;
import io.pekkosocket.Settings;
import io.pekkosocket.actors.SystemActor;
import io.pekkosocket.ops.Metrics;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.wire.Ids;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Leave;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * This node's door in cluster mode (one per node, a child of the {@link Guardian}).
 *
 * <p>Inward: other nodes (and group sequencers) send it {@link Wire.ToNode} commands, found through the
 * path {@link #PATH} on every node; it hands each to the Guardian, which gives it to the system's actor here.
 *
 * <p>Outward: the Guardian gives it the API calls that concern other nodes ({@link Call}); it sends each to the node
 * that holds the client (from the clientId's node tag, resolved only against the current members: a crafted id never
 * makes it contact an address of the caller's choosing), to every node (lists, system pushes), or to the group's
 * sequencer (group pushes, through Cluster Sharding), and answers from what comes back within
 * {@code socket.cluster.gather-timeout}; a node that does not answer in time, or is unreachable, is named in the
 * answer's {@code missingNodes}.
 *
 * <p>It also watches the membership: this node is ready ({@code /health/ready}) once it is Up, holds the
 * registry, and no other member carries its node tag; a node that finds an older member with its own tag leaves.
 */
public final class NodeRouter extends AbstractBehavior<Object> {

  /**
   * Where every node's router lives: a node's router is found from the member's address as soon as this node sees
   * it Up (no registry to wait for, which would leave a node just joined out of answers without saying so).
   */
  public static final String PATH = "/user/node";

  /** The router of a member node (this node's own ref when {@code local}). */
  static ActorRef<Wire.ToNode> routerOf(org.apache.pekko.actor.typed.ActorSystem<?> system, Address address) {
    return ActorRefResolver.get(system).resolveActorRef(address + PATH);
  }

  /** As {@link #routers}, without the nodes this node cannot reach now. */
  static Map<String, ActorRef<Wire.ToNode>> reachableRouters(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    var state = Cluster.get(system).state();
    Set<Address> down = new HashSet<>();
    for (Member m : state.getUnreachable()) down.add(m.address());
    Map<String, ActorRef<Wire.ToNode>> out = new HashMap<>();
    for (Member m : state.getMembers()) {
      String tag = tagOf(m);
      if (tag != null && routable(m) && !down.contains(m.address())) out.put(tag, routerOf(system, m.address()));
    }
    return out;
  }

  /** The routers of every member node this node sees Up (or leaving), by node tag: this node's own included. */
  static Map<String, ActorRef<Wire.ToNode>> routers(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    Map<String, ActorRef<Wire.ToNode>> out = new HashMap<>();
    for (Member m : Cluster.get(system).state().getMembers()) {
      String tag = tagOf(m);
      if (tag != null && routable(m)) out.put(tag, routerOf(system, m.address()));
    }
    return out;
  }

  /** An API call for {@code systemId} that needs other nodes (from the Guardian; the system is known here). */
  public record Call(String systemId, SystemActor.ApiCommand<?> command) implements NoSerializationVerificationNeeded {}

  /** The registry has been read from the cluster (from the Registry actor). */
  public enum RegistryLoaded implements NoSerializationVerificationNeeded { INSTANCE }

  private record MemberChanged(ClusterEvent.MemberEvent event) implements NoSerializationVerificationNeeded {}

  private record ReachabilityChanged(ClusterEvent.ReachabilityEvent event)
      implements NoSerializationVerificationNeeded {}

  private final String self;
  private final Settings settings;
  private final ActorRef<Guardian.Command> guardian;
  private final FrameEncoder encoder;
  private final ClusterSharding sharding;
  private final Cluster cluster;
  private final CompletableFuture<Void> ready;
  private final Metrics metrics;
  private final Duration gatherTimeout;
  private final Map<Address, Member> members = new HashMap<>();
  /** Node tag to its router: members that are Up (or leaving). */
  private Map<String, ActorRef<Wire.ToNode>> table = Map.of();
  private final Set<Address> unreachable = new HashSet<>();
  private boolean registryLoaded;
  /** For the metrics, read from other threads. */
  private volatile int servingCount = 1;
  private volatile int unreachableCount;
  private boolean duplicate;

  public static Behavior<Object> create(Settings settings, ActorRef<Guardian.Command> guardian,
      CompletableFuture<Void> ready, Metrics metrics) {
    return Behaviors.setup(ctx -> new NodeRouter(ctx, settings, guardian, ready, metrics));
  }

  private NodeRouter(ActorContext<Object> ctx, Settings settings, ActorRef<Guardian.Command> guardian,
      CompletableFuture<Void> ready, Metrics metrics) {
    super(ctx);
    this.self = settings.nodeId();
    this.settings = settings;
    this.guardian = guardian;
    this.ready = ready;
    this.metrics = metrics;
    this.gatherTimeout = settings.cluster().gatherTimeout();
    this.encoder = new FrameEncoder(settings.escapeHtml(), settings.trailingNewline());
    this.sharding = ClusterSharding.get(ctx.getSystem());
    this.cluster = Cluster.get(ctx.getSystem());
    cluster.subscriptions().tell(Subscribe.create(
        ctx.messageAdapter(ClusterEvent.MemberEvent.class, MemberChanged::new), ClusterEvent.MemberEvent.class));
    cluster.subscriptions().tell(Subscribe.create(
        ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, ReachabilityChanged::new),
        ClusterEvent.ReachabilityEvent.class));
    metrics.clusterView(() -> servingCount, () -> unreachableCount);
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Wire.ToNode.class, this::onToNode)
        .onMessage(Call.class, this::onCall)
        .onMessage(MemberChanged.class, this::onMemberChanged)
        .onMessage(ReachabilityChanged.class, this::onReachability)
        .onMessageEquals(RegistryLoaded.INSTANCE, this::onRegistryLoaded)
        .build();
  }

  // ---- inward ----

  private Behavior<Object> onToNode(Wire.ToNode m) {
    guardian.tell(new Guardian.ToSystem(m.systemId(), new SystemActor.FromCluster(m)));
    return this;
  }

  // ---- membership ----

  private Behavior<Object> onMemberChanged(MemberChanged m) {
    Member member = m.event().member();
    if (m.event() instanceof ClusterEvent.MemberRemoved) {
      members.remove(member.address());
      unreachable.remove(member.address());
      // groups whose sequencer was on that node: waking them starts it again elsewhere. Twice: a wake that reaches
      // the shard region before the region has seen the lost node's region stop is sent to the lost node
      if (!member.address().equals(cluster.selfMember().address())) {
        getContext().scheduleOnce(Duration.ofSeconds(1), guardian, Guardian.NodeRemoved.INSTANCE);
        getContext().scheduleOnce(Duration.ofSeconds(5), guardian, Guardian.NodeRemoved.INSTANCE);
      }
    } else {
      members.put(member.address(), member);
    }
    checkDuplicate();
    rebuild();
    checkReady();
    return this;
  }

  private Behavior<Object> onReachability(ReachabilityChanged m) {
    Address a = m.event().member().address();
    if (m.event() instanceof ClusterEvent.UnreachableMember) unreachable.add(a);
    else unreachable.remove(a);
    unreachableCount = unreachable.size();
    return this;
  }

  private Behavior<Object> onRegistryLoaded() {
    registryLoaded = true;
    checkReady();
    return this;
  }

  /** The tags of the members this node cannot reach now (never this node's own). */
  private Set<String> unreachableTags() {
    Set<String> down = new HashSet<>();
    for (Address a : unreachable) {
      String tag = tagOf(members.get(a));
      if (tag != null && !tag.equals(self)) down.add(tag);
    }
    return Set.copyOf(down);
  }

  private static boolean serving(Member m) {
    MemberStatus s = m.status();
    return s == MemberStatus.up() || s == MemberStatus.leaving() || s == MemberStatus.weaklyUp();
  }

  /**
   * Whether calls go to a member: serving, or joining (its router runs from its start; one Up in its own view may
   * still be Joining in this node's for a moment, and its clients must not look unknown meanwhile).
   */
  private static boolean routable(Member m) {
    return serving(m) || m.status() == MemberStatus.joining();
  }

  private static String tagOf(Member m) {
    if (m == null) return null;
    for (String role : m.getRoles()) {
      if (role.startsWith(Settings.Cluster.role(""))) return role.substring(Settings.Cluster.role("").length());
    }
    return null;
  }

  private Address addressOf(ActorRef<?> ref) {
    Address a = ref.path().address();
    return a.hasLocalScope() ? cluster.selfMember().address() : a;
  }

  private void rebuild() {
    Map<String, ActorRef<Wire.ToNode>> t = new HashMap<>();
    Address me = cluster.selfMember().address();
    for (Member m : members.values()) {
      String tag = tagOf(m);
      if (tag != null && routable(m) && !m.address().equals(me)) {
        t.put(tag, routerOf(getContext().getSystem(), m.address()));
      }
    }
    if (!duplicate) t.put(self, getContext().getSelf().narrow()); // this node always serves its own clients
    table = Map.copyOf(t);
    servingCount = table.size();
    unreachableCount = unreachable.size();
  }

  /**
   * Another member with this node's tag: the younger of the two leaves (its clientIds would be ambiguous). A node
   * not Up yet is the younger of any Up member.
   */
  private void checkDuplicate() {
    Member me = cluster.selfMember();
    if (duplicate) return;
    boolean meUp = me.status() == MemberStatus.up();
    for (Member other : members.values()) {
      if (other.address().equals(me.address()) || !serving(other) || !self.equals(tagOf(other))) continue;
      if (!meUp || other.isOlderThan(me)) {
        duplicate = true;
        getContext().getLog().error("another node ({}) already has socket.node-id \"{}\": this node leaves the "
            + "cluster and stops. Give every node its own socket.node-id (SOCKET_NODE_ID).", other.address(), self);
        ready.completeExceptionally(new IllegalStateException("duplicate socket.node-id " + self));
        cluster.manager().tell(new Leave(me.address()));
        return;
      }
    }
  }

  private void checkReady() {
    if (ready.isDone() || duplicate || !registryLoaded) return;
    if (cluster.selfMember().status() != MemberStatus.up()) return;
    ready.complete(null);
    getContext().getLog().info("node {} is Up in the cluster ({} members) and ready", self, members.size());
  }

  // ---- outward: API calls that need other nodes ----

  private Behavior<Object> onCall(Call call) {
    SystemActor.ApiCommand<?> command = call.command();
    if (command.deadline().passed()) {
      command.replyTo().tell(ApiResult.busy());
      return this;
    }
    String systemId = call.systemId();
    if (command instanceof SystemActor.SendToClient m) sendToClient(systemId, m);
    else if (command instanceof SystemActor.SendToClients m) sendToClients(systemId, m);
    else if (command instanceof SystemActor.CloseClient m) closeClient(systemId, m);
    else if (command instanceof SystemActor.Bind m) bind(systemId, m);
    else if (command instanceof SystemActor.Unbind m) unbind(systemId, m);
    else if (command instanceof SystemActor.SendToGroup m) sendToGroup(systemId, m);
    else if (command instanceof SystemActor.SendToSystem m) sendToSystem(systemId, m);
    else if (command instanceof SystemActor.GetOnlineList m) onlineList(systemId, m);
    else if (command instanceof SystemActor.GetAllGroups m) allGroups(systemId, m);
    return this;
  }

  /** The routers of {@code tags} (unknown tags left out), and the reachable ones only. */
  private Gather.Targets targets(Iterable<String> tags) {
    Map<String, ActorRef<Wire.ToNode>> reach = new TreeMap<>();
    List<String> missing = new ArrayList<>();
    for (String tag : tags) {
      ActorRef<Wire.ToNode> r = table.get(tag);
      if (r == null) continue;
      if (!tag.equals(self) && unreachable.contains(addressOf(r))) missing.add(tag);
      else reach.put(tag, r);
    }
    return new Gather.Targets(reach, missing);
  }

  private Gather.Targets everyNode() {
    return targets(table.keySet());
  }

  private void gather(String operation, Gather.Targets targets, Gather.Requests requests, Gather.Finish finish) {
    getContext().spawnAnonymous(Gather.create(operation, targets, requests, gatherTimeout, finish, metrics));
  }

  private void sendToClient(String systemId, SystemActor.SendToClient m) {
    String messageId = Ids.newMessageId();
    String tag = Ids.nodeOf(m.clientId());
    Gather.Targets t = targets(List.of(tag));
    if (t.isEmpty()) {
      if (t.missing().isEmpty()) metrics.clusterUnknownTag(); // else: its node is unreachable now
      m.replyTo().tell(ApiResult.ok(new ApiResult.ClientDelivery(messageId, false)).missing(t.missing()));
      return;
    }
    String text = encoder.push(messageId, m.push());
    gather("send_to_client", t,
        (node, me) -> new Wire.Offer(systemId, List.of(m.clientId()), List.of(messageId), text, messageId, me.narrow()),
        r -> m.replyTo().tell(ApiResult.ok(new ApiResult.ClientDelivery(messageId, r.count() > 0))
            .missing(r.missing())));
  }

  private void sendToClients(String systemId, SystemActor.SendToClients m) {
    Map<String, String> messageIds = new LinkedHashMap<>();
    Map<String, List<String>> byNode = new TreeMap<>();
    for (String id : m.clientIds()) {
      if (messageIds.containsKey(id)) continue;
      messageIds.put(id, Ids.newMessageId());
      byNode.computeIfAbsent(Ids.nodeOf(id), k -> new ArrayList<>()).add(id);
    }
    Gather.Targets t = targets(byNode.keySet());
    if (t.isEmpty()) {
      m.replyTo().tell(ApiResult.ok(new ApiResult.ClientsDelivery(messageIds, 0)).missing(t.missing()));
      return;
    }
    String template = messageIds.values().iterator().next();
    String text = encoder.push(template, m.push());
    gather("send_to_clients", t, (node, me) -> {
      List<String> ids = byNode.get(node);
      return new Wire.Offer(systemId, ids, ids.stream().map(messageIds::get).toList(), text, template, me.narrow());
    }, r -> m.replyTo().tell(ApiResult.ok(new ApiResult.ClientsDelivery(messageIds, r.count())).missing(r.missing())));
  }

  private void closeClient(String systemId, SystemActor.CloseClient m) {
    Gather.Targets t = targets(List.of(Ids.nodeOf(m.clientId())));
    if (t.isEmpty()) {
      m.replyTo().tell(ApiResult.okEmptyObject().missing(t.missing()));
      return;
    }
    gather("close_client", t, (node, me) -> new Wire.Close(systemId, m.clientId(), me.narrow()),
        r -> m.replyTo().tell(ApiResult.okEmptyObject().missing(r.missing())));
  }

  private void bind(String systemId, SystemActor.Bind m) {
    Gather.Targets t = targets(List.of(Ids.nodeOf(m.clientId())));
    if (t.isEmpty()) {
      // an unknown client, as on one node: a no-op success; one whose node is unreachable: not known to be done
      m.replyTo().tell(t.missing().isEmpty() ? ApiResult.okEmptyList() : ApiResult.outcomeUnknown());
      return;
    }
    gather("bind_to_group", t,
        (node, me) -> new Wire.Bind(systemId, m.clientId(), m.groupName(), m.userId(), m.extend(), me.narrow()),
        r -> m.replyTo().tell(acked(r)));
  }

  private void unbind(String systemId, SystemActor.Unbind m) {
    Gather.Targets t = targets(List.of(Ids.nodeOf(m.clientId())));
    if (t.isEmpty()) {
      m.replyTo().tell(t.missing().isEmpty() ? ApiResult.okEmptyList() : ApiResult.outcomeUnknown());
      return;
    }
    gather("unbind_from_group", t, (node, me) -> new Wire.Unbind(systemId, m.clientId(), m.groupName(), me.narrow()),
        r -> m.replyTo().tell(acked(r)));
  }

  /** A bind's or unbind's answer: done, refused (the client's node says why), or not known to be done (504). */
  private static ApiResult<ApiResult.Empty> acked(Gather.Result r) {
    if (!r.missing().isEmpty()) return ApiResult.outcomeUnknown();
    for (Object reply : r.replies().values()) {
      if (reply instanceof Wire.Ack a && a.error() != null) return ApiResult.error(a.error());
    }
    return ApiResult.okEmptyList();
  }

  private void sendToGroup(String systemId, SystemActor.SendToGroup m) {
    String messageId = Ids.newMessageId();
    String text = encoder.push(messageId, m.push());
    // the sequencer drops it after half the gather time; if it has not said which nodes count by the whole gather
    // time, it never sent it (503, as for any call that did not run)
    long expiresAt = System.currentTimeMillis() + gatherTimeout.toMillis() / 2;
    var sequencer = sharding.entityRefFor(GroupSequencer.KEY, GroupSequencer.entityId(systemId, m.groupName()));
    // what the tally may read, fixed now: it runs on its own actor, not this one
    Set<String> down = unreachableTags();
    Set<String> known = Set.copyOf(table.keySet());
    getContext().spawnAnonymous(Gather.tally("send_to_group",
        me -> sequencer.tell(new Wire.Publish(systemId, m.groupName(), messageId, text, expiresAt, me.narrow(),
            me.narrow())),
        tag -> !known.contains(tag) || down.contains(tag),
        gatherTimeout, r -> m.replyTo().tell(r == null ? ApiResult.busy()
            : ApiResult.ok(new ApiResult.FanOutDelivery(messageId, r.count())).missing(r.missing())), metrics));
  }

  private void sendToSystem(String systemId, SystemActor.SendToSystem m) {
    String messageId = Ids.newMessageId();
    String text = encoder.push(messageId, m.push());
    gather("send_to_system", everyNode(), (node, me) -> new Wire.SystemPush(systemId, text, me.narrow()),
        r -> m.replyTo().tell(ApiResult.ok(new ApiResult.FanOutDelivery(messageId, r.count())).missing(r.missing())));
  }

  private void onlineList(String systemId, SystemActor.GetOnlineList m) {
    gather("get_online_list", everyNode(), (node, me) -> new Wire.ListMembers(systemId, m.groupName(), me.narrow()),
        r -> {
          List<String> list = merged(r, m.groupName());
          m.replyTo().tell(ApiResult.ok(new ApiResult.OnlineList(list.size(), list)).missing(r.missing()));
        });
  }

  private void allGroups(String systemId, SystemActor.GetAllGroups m) {
    gather("get_all_groups", everyNode(), (node, me) -> new Wire.ListMembers(systemId, null, me.narrow()), r -> {
      Set<String> names = new java.util.LinkedHashSet<>();
      for (Object reply : r.replies().values()) names.addAll(((Wire.Members) reply).groups().keySet());
      Map<String, List<String>> all = new LinkedHashMap<>();
      for (String name : names) {
        List<String> list = merged(r, name);
        if (!list.isEmpty()) all.put(name, list);
      }
      m.replyTo().tell(ApiResult.ok(new ApiResult.AllGroups(all)).missing(r.missing()));
    });
  }

  /** One group's members from every node that answered, in the group's one join order. */
  private static List<String> merged(Gather.Result r, String group) {
    List<Wire.Position> all = new ArrayList<>();
    for (Object reply : r.replies().values()) {
      List<Wire.Position> part = ((Wire.Members) reply).groups().get(group);
      if (part != null) all.addAll(part);
    }
    all.sort(Comparator.comparingInt(Wire.Position::epoch).thenComparingLong(Wire.Position::seq)
        .thenComparing(Wire.Position::clientId));
    return all.stream().map(Wire.Position::clientId).toList();
  }
}

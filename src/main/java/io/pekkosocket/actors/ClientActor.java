package io.pekkosocket.actors;

import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.CloseCode;
import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.ws.Frame;
import io.pekkosocket.ws.FrameCounters;
import io.pekkosocket.ws.OutboundQueue;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One client: the control plane of one WebSocket connection. It owns
 * <ul>
 *   <li>the connection's {@link OutboundQueue} (the data plane: actors offer encoded frames to it directly), made
 *       here so that it can outlive a socket;</li>
 *   <li>the welcome, queued first, before the client enters its system's index ({@link SystemActor.Registered}), so
 *       nothing sent to the client can overtake it;</li>
 *   <li>the client's identity: clientId, the connect token's userId, and the {@code userId}/{@code extend} of the
 *       last bind, which its group notices (1001/1002) carry;</li>
 *   <li>its membership changes: the system decides a bind or unbind in its index and hands it here; this actor
 *       sends the group the {@link GroupActor.Join}/{@link GroupActor.Leave} with the client's attributes and has the
 *       group answer the caller, so every membership message for one client reaches a group in the order the system
 *       decided them;</li>
 *   <li>close requests ({@link Close}) and the disconnect: the socket's stage reports {@link ConnectionClosed} here,
 *       once, and this actor tells its system {@link SystemActor.Left} with the attributes for the 1002s.</li>
 * </ul>
 * A socket that never attaches within the attach timeout (its upgrade was never completed) counts as a disconnect.
 * The actor stops when its system has taken it out of the index ({@link Release}); if it stops while its queue is
 * still open (its system was lost), it closes the connection with 1011.
 */
public final class ClientActor extends AbstractBehavior<ClientActor.Command> {

  public sealed interface Command {}

  /** From the socket's stage: it has started serving the queue. */
  public enum Attached implements Command { INSTANCE }

  /** From the socket's stage, exactly once: the socket has ended; {@code code} is the close code (1006 if none). */
  public record ConnectionClosed(int code) implements Command {}

  /** Close the connection after the frames already accepted (close_client 1000, drain 1012, group lost 1011). */
  public record Close(int code, String reason) implements Command {}

  /**
   * A bind the system has entered in its index: the client's attributes become {@code userId} (the connect token's
   * when empty) and {@code extend}, and it joins {@code group} (1001 there if it was not a member). The group answers
   * {@code replyTo} once those frames are queued.
   */
  public record Join(ActorRef<GroupActor.Command> group, String userId, String extend,
      ActorRef<ApiResult> replyTo) implements Command {}

  /**
   * An unbind the system has entered in its index: the client leaves {@code group} (1002 to the others when
   * {@code notifyOthers}); the group answers {@code replyTo}, then gets {@code then} (the system's idle check of a
   * group it emptied), if any.
   */
  public record Leave(ActorRef<GroupActor.Command> group, boolean notifyOthers, ActorRef<ApiResult> replyTo,
      GroupActor.Command then) implements Command {}

  /** From the system, after {@link SystemActor.Left}: it has forgotten this client; nothing more will come. */
  public enum Release implements Command { INSTANCE }

  private enum AttachTimeout implements Command { INSTANCE }

  /** How a client's queue is bounded and counted; from {@code socket.ws}. */
  public record QueueLimits(int maxFrames, long maxBytes, FrameCounters counters, Duration attachTimeout) {}

  private final String clientId;
  private final String tokenUserId;
  private final ActorRef<SystemActor.Command> system;
  private final OutboundQueue queue;
  private String userId;
  private String extend = "";
  private boolean attached;
  /** The connection has ended and the system has been told; waiting for {@link Release}. */
  private boolean left;

  /**
   * @param tokenUserId the connect token's userId ("" when none): the client's userId until a bind sets one
   * @param replyTo hears {@link SystemActor.Admitted} with the queue, once the welcome is queued and the client is on
   *     its way into the index
   */
  public static Behavior<Command> create(String clientId, String tokenUserId, ActorRef<SystemActor.Command> system,
      ActorRef<SystemActor.Admission> replyTo, QueueLimits limits, FrameEncoder encoder) {
    return Behaviors.withMdc(Command.class, Map.of("clientId", clientId),
        Behaviors.supervise(Behaviors.<Command>setup(ctx -> Behaviors.withTimers(timers ->
                new ClientActor(ctx, timers, clientId, tokenUserId, system, replyTo, limits, encoder))))
            .onFailure(Exception.class, SupervisorStrategy.resume()));
  }

  private ClientActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, String clientId,
      String tokenUserId, ActorRef<SystemActor.Command> system, ActorRef<SystemActor.Admission> replyTo,
      QueueLimits limits, FrameEncoder encoder) {
    super(ctx);
    this.clientId = clientId;
    this.tokenUserId = tokenUserId;
    this.userId = tokenUserId;
    this.system = system;
    this.queue = new OutboundQueue(limits.maxFrames(), limits.maxBytes(), limits.counters());
    queue.offer(Frame.text(encoder.welcome(clientId)));
    system.tell(new SystemActor.Registered(clientId, ctx.getSelf(), queue));
    replyTo.tell(new SystemActor.Admitted(ctx.getSelf(), queue));
    timers.startSingleTimer(AttachTimeout.INSTANCE, limits.attachTimeout());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Attached.INSTANCE, this::onAttached)
        .onMessageEquals(AttachTimeout.INSTANCE, this::onAttachTimeout)
        .onMessage(ConnectionClosed.class, m -> onEnded(m.code()))
        .onMessage(Close.class, this::onClose)
        .onMessage(Join.class, this::onJoin)
        .onMessage(Leave.class, this::onLeave)
        .onMessageEquals(Release.INSTANCE, Behaviors::stopped)
        .onSignal(PostStop.class, this::onPostStop)
        .build();
  }

  private Behavior<Command> onAttached() {
    attached = true;
    return this;
  }

  /** The upgrade that was to serve this client never started its stage (the handshake failed or timed out). */
  private Behavior<Command> onAttachTimeout() {
    if (attached || left) return this;
    queue.close(CloseCode.INTERNAL_ERROR, "internal error", false);
    return onEnded(CloseCode.ABNORMAL);
  }

  private Behavior<Command> onEnded(int code) {
    if (left) return this;
    left = true;
    getContext().getLog().debug("client {} disconnected with {}", clientId, code);
    system.tell(new SystemActor.Left(clientId, userId, extend));
    return this;
  }

  private Behavior<Command> onClose(Close m) {
    queue.close(m.code(), m.reason(), true);
    return this;
  }

  private Behavior<Command> onJoin(Join m) {
    if (left) { // gone already: no 1001 for a client whose 1002 is on its way
      m.replyTo().tell(ApiResult.okEmptyList());
      return this;
    }
    userId = m.userId().isEmpty() ? tokenUserId : m.userId();
    extend = m.extend();
    m.group().tell(new GroupActor.Join(clientId, queue, userId, extend));
    m.group().tell(new GroupActor.Answer<>(ApiResult.okEmptyList(), m.replyTo()));
    return this;
  }

  private Behavior<Command> onLeave(Leave m) {
    m.group().tell(new GroupActor.Leave(clientId, userId, extend, m.notifyOthers()));
    m.group().tell(new GroupActor.Answer<>(ApiResult.okEmptyList(), m.replyTo()));
    if (m.then() != null) m.group().tell(m.then());
    return this;
  }

  /**
   * Stopped while its queue is still open: its system (the parent) was lost, or the actor failed. The server no
   * longer knows this connection, so it closes it with 1011 after the frames already accepted.
   */
  private Behavior<Command> onPostStop(PostStop signal) {
    if (!queue.isClosed()) queue.close(CloseCode.INTERNAL_ERROR, "internal error", true);
    return this;
  }
}

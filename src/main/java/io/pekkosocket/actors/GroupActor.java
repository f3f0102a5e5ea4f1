package io.pekkosocket.actors;

import io.pekkosocket.ops.Faults;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.wire.Ids;
import io.pekkosocket.wire.Push;
import io.pekkosocket.ws.OutboundQueue;
import io.pekkosocket.ws.Frame;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One group (room) of a system. It is the only sender of the group's frames (pushes, 1001, 1002), so every member
 * receives them in the same order. Membership itself is decided by the owning {@link SystemActor} (its index); a
 * client's {@link Join} and {@link Leave} come from its ClientActor (or, for a disconnect, from the system), in the
 * order the system decided them, and the system stops the group once its last member has left
 * and it has handled everything sent to it (a bind before that joins this same actor: one actor per group at a time).
 */
public final class GroupActor extends AbstractBehavior<GroupActor.Command> {

  public sealed interface Command {}

  /**
   * A client binds (sent by its ClientActor). A new member gets 1001 sent to every member, the joiner included; a
   * member already only has its attributes updated.
   */
  public record Join(String clientId, OutboundQueue queue, String userId, String extend) implements Command {}

  /**
   * A member leaves; with {@code notifyOthers} the remaining members get 1002 with {@code userId} and
   * {@code extend}, or with the attributes it last joined with when those are null (a client actor that was lost).
   */
  public record Leave(String clientId, String userId, String extend, boolean notifyOthers) implements Command {}

  /**
   * A business push to every member; replies with {@link ApiResult.FanOutDelivery}, or {@link ApiResult#BUSY}
   * without sending anything once {@code deadline} has passed.
   */
  public record Send(Push push, Deadline deadline, ActorRef<ApiResult<ApiResult.FanOutDelivery>> replyTo)
      implements Command {}

  /**
   * Tells {@code replyTo} the {@code message} once the group has handled everything sent to it before, so the frames
   * those messages caused are queued: a bind is answered this way after its {@link Join}, and the system learns
   * that a group it emptied is idle. It starts nothing (see {@link Deadline}): the command it answers was started by
   * its sender.
   */
  public record Answer<T>(T message, ActorRef<T> replyTo) implements Command {}

  /**
   * Cluster mode: a frame of the group's sequence (encoded by the sequencer or the node that took the call) for this
   * node's members; with {@code countTo}, how many accepted it is told there as {@code node}'s count.
   */
  public record Fan(String text, ActorRef<io.pekkosocket.cluster.Wire.Count> countTo, String node)
      implements Command {}

  /** Test and metrics view of the members, in join order. */
  public record GetMembers(ActorRef<List<String>> replyTo) implements Command {}

  public enum Stop implements Command { INSTANCE }

  private final FrameEncoder encoder;
  private final String systemId;
  private final Faults faults;
  private final boolean notices;
  /** The members' queues, in join order: what a fan-out walks. */
  private final Map<String, OutboundQueue> members = new LinkedHashMap<>();
  /** The attributes each member last joined with, for a 1002 whose sender does not know them (a lost client). */
  private final Map<String, Attributes> joinedWith = new java.util.HashMap<>();

  private record Attributes(String userId, String extend) {}

  /**
   * Failures resume with the member map as it was (see {@link SystemActor#create}). An {@code Error} stops the
   * group; its SystemActor watches it and closes its members' connections with 1011.
   */
  public static Behavior<Command> create(String systemId, FrameEncoder encoder, boolean membershipNotices,
      Faults faults) {
    return Behaviors.withMdc(Command.class, Map.of("systemId", systemId),
        Behaviors.supervise(Behaviors.<Command>setup(ctx ->
                new GroupActor(ctx, systemId, encoder, membershipNotices, faults)))
            .onFailure(Exception.class, SupervisorStrategy.resume()));
  }

  private GroupActor(ActorContext<Command> ctx, String systemId, FrameEncoder encoder, boolean notices,
      Faults faults) {
    super(ctx);
    this.systemId = systemId;
    this.faults = faults;
    this.encoder = encoder;
    this.notices = notices;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Join.class, this::onJoin)
        .onMessage(Leave.class, this::onLeave)
        .onMessage(Send.class, this::onSend)
        .onMessage(Answer.class, this::onAnswer)
        .onMessage(Fan.class, this::onFan)
        .onMessage(GetMembers.class, this::onGetMembers)
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .build();
  }

  private Behavior<Command> onJoin(Join m) {
    OutboundQueue was = members.put(m.clientId(), m.queue());
    joinedWith.put(m.clientId(), new Attributes(m.userId(), m.extend()));
    if (was == null && notices) {
      fanOut(encoder.membership(Ids.newMessageId(), true, m.clientId(), m.userId(), m.extend()));
    }
    return this;
  }

  private Behavior<Command> onLeave(Leave m) {
    Attributes was = joinedWith.remove(m.clientId());
    if (members.remove(m.clientId()) != null && m.notifyOthers() && notices) {
      String userId = m.userId() != null ? m.userId() : was.userId();
      String extend = m.extend() != null ? m.extend() : was.extend();
      fanOut(encoder.membership(Ids.newMessageId(), false, m.clientId(), userId, extend));
    }
    return this;
  }

  private Behavior<Command> onSend(Send m) {
    faults.check("group", systemId); // test-only: stands for whatever held the group until now
    if (m.deadline().passed()) {
      m.replyTo().tell(ApiResult.busy());
      return this;
    }
    String messageId = Ids.newMessageId();
    int delivered = fanOut(encoder.push(messageId, m.push()));
    m.replyTo().tell(ApiResult.ok(new ApiResult.FanOutDelivery(messageId, delivered)));
    return this;
  }

  private Behavior<Command> onFan(Fan m) {
    int delivered = fanOut(m.text());
    if (m.countTo() != null) m.countTo().tell(new io.pekkosocket.cluster.Wire.Count(m.node(), delivered));
    return this;
  }

  private Behavior<Command> onAnswer(Answer<?> m) {
    answer(m);
    return this;
  }

  private static <T> void answer(Answer<T> m) {
    m.replyTo().tell(m.message());
  }

  private Behavior<Command> onGetMembers(GetMembers m) {
    m.replyTo().tell(List.copyOf(members.keySet()));
    return this;
  }

  /** Encodes once and offers the same frame object to every member; returns how many queues accepted it. */
  private int fanOut(String text) {
    Frame frame = Frame.text(text);
    int delivered = 0;
    for (OutboundQueue queue : members.values()) {
      if (queue.offer(frame)) delivered++;
    }
    return delivered;
  }
}

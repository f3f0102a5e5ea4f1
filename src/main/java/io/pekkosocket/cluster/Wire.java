package io.pekkosocket.cluster;

import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The messages nodes send each other in cluster mode: the whole cross-node protocol, in one place. Pushes travel
 * as their encoded frame text (encoded once, at the node that took the call), so no payload type crosses.
 */
public final class Wire {
  private Wire() {}

  // ---- to a node: its NodeRouter hands them to the named system's SystemActor there ----

  /** A command for one system on one node; {@link #refuse} answers it when that node does not know the system. */
  public sealed interface ToNode extends CborSerializable {
    String systemId();

    /** The answer when the node does not know the system (it never had a client of it). */
    void refuse(String node);
  }

  /**
   * Offer a push to clients of this node: {@code messageIds.get(i)} is the messageId of {@code clientIds.get(i)};
   * {@code text} is the push encoded with {@code templateMessageId}. Answered with how many queues accepted it.
   */
  public record Offer(String systemId, List<String> clientIds, List<String> messageIds, String text,
      String templateMessageId, ActorRef<Count> replyTo) implements ToNode {
    public void refuse(String node) {
      replyTo.tell(new Count(node, 0));
    }
  }

  /** A {@code send_to_system} frame for every client of the system on this node. */
  public record SystemPush(String systemId, String text, ActorRef<Count> replyTo) implements ToNode {
    public void refuse(String node) {
      replyTo.tell(new Count(node, 0));
    }
  }

  /** {@code close_client} for a client of this node. */
  public record Close(String systemId, String clientId, ActorRef<Count> replyTo) implements ToNode {
    public void refuse(String node) {
      replyTo.tell(new Count(node, 0));
    }
  }

  /** {@code bind_to_group} of a client of this node; answered once its group's sequencer has it. */
  public record Bind(String systemId, String clientId, String group, String userId, String extend,
      ActorRef<Ack> replyTo) implements ToNode {
    public void refuse(String node) {
      replyTo.tell(new Ack(node, null));
    }
  }

  /** {@code unbind_from_group} of a client of this node. */
  public record Unbind(String systemId, String clientId, String group, ActorRef<Ack> replyTo) implements ToNode {
    public void refuse(String node) {
      replyTo.tell(new Ack(node, null));
    }
  }

  /** This node's members of {@code group}, or of every group when it is null. */
  public record ListMembers(String systemId, String group, ActorRef<Members> replyTo) implements ToNode {
    public void refuse(String node) {
      replyTo.tell(new Members(node, Map.of()));
    }
  }

  /**
   * From a group's sequencer: the group's next frames and membership changes, numbered {@code (epoch, seq)}. Each
   * node applies them in that order: the source of one order for all members on all nodes. {@code countTo} (a
   * push) is told how many of this node's members accepted it; {@code ackTo} (a bind or unbind of a client here) is
   * answered once all of it is queued.
   */
  public record Deliver(String systemId, String group, int epoch, long seq, List<Op> ops, ActorRef<Count> countTo,
      ActorRef<Ack> ackTo) implements ToNode {
    public void refuse(String node) {
      if (countTo != null) countTo.tell(new Count(node, 0));
      if (ackTo != null) ackTo.tell(new Ack(node, null));
    }
  }

  /**
   * From a sequencer starting (again): this node's members of the group, and the last frame it applied. From now on
   * the node drops the group's frames of epoch {@code epochFloor} and below (the starting sequencer's epoch is above
   * it), so a frame of an earlier incarnation still on its way cannot change what the node reported.
   */
  public record Report(String systemId, String group, int epochFloor, ActorRef<Reported> replyTo) implements ToNode {
    public void refuse(String node) {
      replyTo.tell(new Reported(node, null, 0, 0, List.of(), List.of()));
    }
  }

  /** One step of a group's sequence: a JOIN carries the member's attributes, a NOTICE or PUSH its frame. */
  public record Op(Kind kind, String clientId, String userId, String extend, String text) {
    public static Op join(String clientId, String userId, String extend) {
      return new Op(Kind.JOIN, clientId, userId, extend, null);
    }

    public static Op leave(String clientId) {
      return new Op(Kind.LEAVE, clientId, null, null, null);
    }

    public static Op notice(String text) {
      return new Op(Kind.NOTICE, null, null, null, text);
    }

    public static Op push(String text) {
      return new Op(Kind.PUSH, null, null, null, text);
    }
  }

  public enum Kind {
    /**
     * {@code clientId} (if it is this node's) becomes a member here, from this point of the sequence; for a member
     * already, its attributes change.
     */
    JOIN,
    /** {@code clientId} is no longer a member. */
    LEAVE,
    /** A 1001/1002 frame ({@code text}): not sent by a draining node. */
    NOTICE,
    /** A business push ({@code text}); its delivery is counted. */
    PUSH
  }

  // ---- replies ----

  public record Count(String node, int count) implements CborSerializable {}

  /** {@code error} null: done. */
  public record Ack(String node, String error) implements CborSerializable {}

  /** Group name to this node's members, each with its place in the group's sequence. */
  public record Members(String node, Map<String, List<Position>> groups) implements CborSerializable {}

  public record Position(String clientId, int epoch, long seq) {}

  /**
   * A node's part of a sequencer's restart: its router, the last point it applied, its own members, and its copy of
   * the whole member directory (every node keeps one from the sequence it applies: the 1002s of a node lost together
   * with the group's sequencer come from it).
   */
  public record Reported(String node, ActorRef<ToNode> router, int epoch, long seq, List<Member> members,
      List<Member> directory) implements CborSerializable {}

  public record Member(String clientId, String userId, String extend, int epoch, long seq) {}

  // ---- to a group's sequencer (cluster sharding) ----

  public sealed interface ToGroup extends CborSerializable {
    String systemId();

    String group();
  }

  /** A client of {@code node} (whose router is {@code router}) joins, or updates its attributes. */
  public record Join(String systemId, String group, String clientId, String node, String userId, String extend,
      ActorRef<ToNode> router, ActorRef<Ack> ackTo) implements ToGroup {}

  /** A client leaves (unbind, or its connection ended: then {@code ackTo} is null). */
  public record Leave(String systemId, String group, String clientId, ActorRef<ToNode> router, ActorRef<Ack> ackTo)
      implements ToGroup {}

  /**
   * A {@code send_to_group} push, {@code text} encoded with {@code messageId}. Dropped unsent when it reaches the
   * sequencer after {@code expiresAtMillis} (its caller has been answered 503 by then).
   */
  public record Publish(String systemId, String group, String messageId, String text, long expiresAtMillis,
      ActorRef<Expect> tally, ActorRef<Count> counts) implements ToGroup {}

  /**
   * From a node that has members of the group, after a node left the cluster: nothing to do, but a sequencer lost
   * with that node starts again on this message (and sends the lost members' 1002s) instead of on the group's next
   * call.
   */
  public record Wake(String systemId, String group) implements ToGroup {}

  /** To a push's tally: the nodes whose counts make its {@code delivered}. */
  public record Expect(List<String> nodes) implements CborSerializable {}
}

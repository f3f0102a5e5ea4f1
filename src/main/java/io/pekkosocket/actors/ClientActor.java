package io.pekkosocket.actors;

import io.pekkosocket.wire.CloseCode;
import io.pekkosocket.ws.OutboundQueue;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One WebSocket connection, bridged to its stream through the connection's {@link OutboundQueue}. It lives exactly as
 * long as the connection: when the socket ends ({@link ConnectionClosed}) it stops, and its stop is the one
 * disconnect event its {@link SystemActor} acts on (the groups' 1002). Asking it to {@link Close} closes the socket
 * with the given code after the frames already accepted. If it stops first (its system was lost), it closes the
 * socket with 1011.
 */
public final class ClientActor extends AbstractBehavior<ClientActor.Command> {

  public sealed interface Command {}

  /** Close the connection (e.g. {@code close_client}: 1000 "closed by server"). */
  public record Close(int code, String reason) implements Command {}

  /** The socket has ended; {@code code} is the close code sent or received (1006 when none). */
  public record ConnectionClosed(int code) implements Command {}

  private final String clientId;
  private final OutboundQueue queue;

  public static Behavior<Command> create(String clientId, OutboundQueue queue) {
    return Behaviors.withMdc(Command.class, java.util.Map.of("clientId", clientId),
        Behaviors.setup(ctx -> new ClientActor(ctx, clientId, queue)));
  }

  private ClientActor(ActorContext<Command> ctx, String clientId, OutboundQueue queue) {
    super(ctx);
    this.clientId = clientId;
    this.queue = queue;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Close.class, this::onClose)
        .onMessage(ConnectionClosed.class, this::onConnectionClosed)
        .onSignal(PostStop.class, this::onPostStop)
        .build();
  }

  private Behavior<Command> onClose(Close m) {
    queue.close(m.code(), m.reason(), true);
    return this;
  }

  private Behavior<Command> onConnectionClosed(ConnectionClosed m) {
    getContext().getLog().debug("client {} disconnected with {}", clientId, m.code());
    return Behaviors.stopped();
  }

  /**
   * Stopped while its socket is still open: its system (the parent) was lost, or the actor failed. The server no
   * longer knows this connection, so it closes it with 1011 after the frames already accepted.
   */
  private Behavior<Command> onPostStop(PostStop signal) {
    if (!queue.isClosed()) queue.close(CloseCode.INTERNAL_ERROR, "internal error", true);
    return this;
  }
}

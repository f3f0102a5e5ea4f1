package io.pekkosocket.actors;

import io.pekkosocket.auth.ResumeTokens;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.CloseCode;
import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.ws.Frame;
import io.pekkosocket.ws.FrameCounters;
import io.pekkosocket.ws.OutboundQueue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * One client: the control plane of one WebSocket connection, and of its session when it is resumable. It owns
 * <ul>
 *   <li>the client's {@link OutboundQueue} (the data plane: actors offer encoded frames to it directly), made here
 *       so that it can outlive a socket;</li>
 *   <li>the welcome, queued first, before the client enters its system's index ({@link SystemActor.Registered}), so
 *       nothing sent to the client can overtake it;</li>
 *   <li>the client's identity: clientId, the connect token's userId, and the {@code userId}/{@code extend} of the
 *       last bind, which its group notices (1001/1002) carry;</li>
 *   <li>its membership changes: the system decides a bind or unbind in its index and hands it here; this actor
 *       sends the group the {@link GroupActor.Join}/{@link GroupActor.Leave} with the client's attributes and has the
 *       group answer the caller, so every membership message for one client reaches a group in the order the system
 *       decided them;</li>
 *   <li>close requests ({@link Close}) and the disconnect: each socket's stage reports {@link ConnectionClosed}
 *       here, once; when the session ends this actor tells its system {@link SystemActor.Left} with the attributes
 *       for the 1002s;</li>
 *   <li>session resumption (PROTOCOL.md "Resumption"): a resumable session whose socket is lost (no close frame, or
 *       the heartbeat timeout) waits for {@code resume-window}, its queue still accepting frames; a {@link Resume}
 *       with the session's current token nonce within it attaches a new socket to the same queue, which first writes
 *       the new welcome and every kept frame after the client's last messageId.</li>
 * </ul>
 * Each socket attached to the session has its own number (epoch): reports of a socket that was superseded are
 * ignored. A socket that does not attach within the attach timeout counts as lost. The actor stops when its system
 * has taken it out of the index ({@link Release}); if it stops while its queue is still open (its system was lost),
 * it closes the connection with 1011.
 */
public final class ClientActor extends AbstractBehavior<ClientActor.Command> {

  public sealed interface Command {}

  /** From socket {@code epoch}'s stage: it has started serving the queue. */
  public record Attached(int epoch) implements Command {}

  /**
   * From socket {@code epoch}'s stage, exactly once: the socket has ended with {@code code} (1006 if none);
   * {@code lost}: without a close (no close frame, or the heartbeat timeout), and its stage let go of the queue.
   */
  public record ConnectionClosed(int epoch, int code, boolean lost) implements Command {}

  /** Close the connection after the frames already accepted (close_client 1000, drain 1012, group lost 1011). */
  public record Close(int code, String reason) implements Command {}

  /**
   * A bind the system has entered in its index: the client's attributes become {@code userId} (the connect token's
   * when empty) and {@code extend}, and it joins {@code group} (1001 there if it was not a member). The group answers
   * {@code replyTo} once those frames are queued, then tells the system {@code done}: the system counts the
   * membership messages on their way to a group through its clients, and stops no group with one still on its way.
   */
  public record Join(ActorRef<GroupActor.Command> group, String userId, String extend,
      ActorRef<ApiResult<ApiResult.Empty>> replyTo, SystemActor.Command done) implements Command {}

  /**
   * An unbind the system has entered in its index: the client leaves {@code group} (1002 to the others when
   * {@code notifyOthers}); the group answers {@code replyTo}, then tells the system {@code done} (see {@link Join}).
   */
  public record Leave(ActorRef<GroupActor.Command> group, boolean notifyOthers,
      ActorRef<ApiResult<ApiResult.Empty>> replyTo, SystemActor.Command done) implements Command {}

  /**
   * A handshake asks to take this session over with a token of {@code nonce}, the client having processed
   * everything up to {@code last} ("" : nothing after its welcome). Answered on the handshake's {@code connect}:
   * {@link SystemActor.Admitted} with what the new socket writes first, or, via the system, a fresh client
   * ({@link SystemActor.ResumeRefused}).
   */
  public record Resume(String nonce, String last, SystemActor.Connect connect) implements Command {}

  /** From the system, after {@link SystemActor.Left}: it has forgotten this client; nothing more will come. */
  public enum Release implements Command { INSTANCE }

  private record AttachTimeout(int epoch) implements Command {}

  private enum WindowPassed implements Command { INSTANCE }

  private enum ClosedWhileDetached implements Command { INSTANCE }

  /** How a client's queue is bounded and counted; from {@code socket.ws}. */
  public record QueueLimits(int maxFrames, long maxBytes, FrameCounters counters, Duration attachTimeout) {}

  /** How the handshake that made this client asked for its session. */
  public enum Opening {
    /** No {@code resume} parameter: not resumable, and the welcome is today's bytes. */
    PLAIN,
    /** {@code resume=1}: resumable; the welcome carries a resumeToken. */
    RESUMABLE,
    /** A resume that could not be honoured: resumable, and the welcome says {@code "resumed":false}. */
    RESUME_REFUSED
  }

  private final String clientId;
  private final String systemId;
  private final String tokenUserId;
  private final ActorRef<SystemActor.Command> system;
  private final OutboundQueue queue;
  private final FrameEncoder encoder;
  private final QueueLimits limits;
  private final Sessions sessions;
  private final boolean resumable;
  private final TimerScheduler<Command> timers;
  private String userId;
  private String extend = "";
  /** The socket serving the session now (1 for the first); reports of earlier ones are ignored. */
  private int epoch = 1;
  private boolean attached;
  /** The session's socket was lost and it waits for a resume (counted in {@link Sessions}). */
  private boolean detached;
  /** The nonce of the session's current resume token; good for one resume. */
  private String nonce;
  /**
   * The nonce a resume came with, until the socket it made attaches: if that socket never does (the handshake was
   * lost), the client never saw the new token, and may resume with the one it has.
   */
  private String previousNonce;
  /** The session has ended and the system has been told; waiting for {@link Release}. */
  private boolean left;

  /**
   * @param tokenUserId the connect token's userId ("" when none): the client's userId until a bind sets one
   * @param replyTo hears {@link SystemActor.Admitted} with the queue, once the welcome is queued and the client is on
   *     its way into the index
   */
  public static Behavior<Command> create(String clientId, String systemId, String tokenUserId,
      ActorRef<SystemActor.Command> system, ActorRef<SystemActor.Admission> replyTo, QueueLimits limits,
      FrameEncoder encoder, Sessions sessions, Opening opening) {
    return Behaviors.withMdc(Command.class, Map.of("clientId", clientId),
        Behaviors.supervise(Behaviors.<Command>setup(ctx -> Behaviors.withTimers(timers ->
                new ClientActor(ctx, timers, clientId, systemId, tokenUserId, system, replyTo, limits, encoder,
                    sessions, opening))))
            .onFailure(Exception.class, SupervisorStrategy.resume()));
  }

  private ClientActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, String clientId, String systemId,
      String tokenUserId, ActorRef<SystemActor.Command> system, ActorRef<SystemActor.Admission> replyTo,
      QueueLimits limits, FrameEncoder encoder, Sessions sessions, Opening opening) {
    super(ctx);
    this.timers = timers;
    this.clientId = clientId;
    this.systemId = systemId;
    this.tokenUserId = tokenUserId;
    this.userId = tokenUserId;
    this.system = system;
    this.encoder = encoder;
    this.limits = limits;
    this.sessions = sessions;
    this.resumable = opening != Opening.PLAIN;
    this.queue = new OutboundQueue(limits.maxFrames(), limits.maxBytes(), limits.counters(),
        resumable ? sessions.keepFrames() : 0);
    ActorRef<Command> self = ctx.getSelf();
    queue.whenClosedUnattached(() -> self.tell(ClosedWhileDetached.INSTANCE));
    String welcome = resumable
        ? encoder.welcome(clientId, newToken(), opening == Opening.RESUME_REFUSED ? Boolean.FALSE : null)
        : encoder.welcome(clientId);
    queue.offer(Frame.text(welcome));
    system.tell(new SystemActor.Registered(clientId, self, queue));
    replyTo.tell(new SystemActor.Admitted(self, queue, List.of(), epoch));
    timers.startSingleTimer(new AttachTimeout(epoch), limits.attachTimeout());
  }

  /** A fresh resume token for the session; the previous one is good no more. */
  private String newToken() {
    nonce = ResumeTokens.newNonce();
    return sessions.tokens().sign(systemId, clientId, nonce);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Attached.class, this::onAttached)
        .onMessage(AttachTimeout.class, this::onAttachTimeout)
        .onMessage(ConnectionClosed.class, this::onConnectionClosed)
        .onMessage(Close.class, this::onClose)
        .onMessage(Join.class, this::onJoin)
        .onMessage(Leave.class, this::onLeave)
        .onMessage(Resume.class, this::onResume)
        .onMessageEquals(WindowPassed.INSTANCE, this::onWindowPassed)
        .onMessageEquals(ClosedWhileDetached.INSTANCE, this::onClosedWhileDetached)
        .onMessageEquals(Release.INSTANCE, Behaviors::stopped)
        .onSignal(PostStop.class, this::onPostStop)
        .build();
  }

  private Behavior<Command> onAttached(Attached m) {
    if (m.epoch() == epoch) {
      attached = true;
      previousNonce = null; // the new token is on its way to the client: the one it resumed with is spent
    }
    return this;
  }

  /** The upgrade that was to serve this session never started its stage: as good as a lost socket. */
  private Behavior<Command> onAttachTimeout(AttachTimeout m) {
    if (m.epoch() != epoch || attached || left || detached) return this;
    // a resume whose socket never came: the client keeps its previous token, so wait again; a first socket that
    // never came gave its client no token at all, so nobody could resume it
    if (resumable && epoch > 1 && !queue.isClosed() && sessions.tryDetach()) {
      detached = true;
      timers.startSingleTimer(WindowPassed.INSTANCE, sessions.window());
      return this;
    }
    return end(CloseCode.ABNORMAL, FrameCounters.Discard.RESET);
  }

  private Behavior<Command> onConnectionClosed(ConnectionClosed m) {
    if (m.epoch() != epoch || left || detached) return this; // a superseded socket, or a report already acted on
    attached = false;
    if (resumable && m.lost() && !queue.isClosed() && sessions.tryDetach()) {
      detached = true;
      timers.startSingleTimer(WindowPassed.INSTANCE, sessions.window());
      getContext().getLog().debug("client {} lost its socket ({}); its session waits for a resume", clientId,
          m.code());
      return this;
    }
    // a closed socket's stage writes (or drops) what is queued; a lost one has let go of the queue, so it ends here
    return end(m.code(), m.lost() && resumable ? FrameCounters.Discard.RESET : null);
  }

  /**
   * The session is over, and the system hears of it ({@code Left}: the 1002s). With no socket to end it (a waiting
   * session, or one never attached), its queue is ended here, dropping what it holds for {@code why}; otherwise
   * ({@code why} null) the socket's stage does that.
   */
  private Behavior<Command> end(int code, FrameCounters.Discard why) {
    if (left) return this;
    left = true;
    if (detached) {
      detached = false;
      sessions.attachedOrEnded();
    }
    timers.cancelAll();
    if (why != null) queue.end(why);
    getContext().getLog().debug("client {} disconnected with {}", clientId, code);
    system.tell(new SystemActor.Left(clientId, userId, extend));
    return this;
  }

  private Behavior<Command> onWindowPassed() {
    return detached ? end(CloseCode.ABNORMAL, FrameCounters.Discard.RESET) : this;
  }

  /** A waiting session's queue overflowed (or was asked to close): the session ends. */
  private Behavior<Command> onClosedWhileDetached() {
    return detached ? end(CloseCode.TRY_AGAIN_LATER, FrameCounters.Discard.OVERFLOW) : this;
  }

  private Behavior<Command> onClose(Close m) {
    if (detached) return end(m.code(), FrameCounters.Discard.CLOSE_TIMEOUT); // nobody to flush to
    queue.close(m.code(), m.reason(), true);
    return this;
  }

  private Behavior<Command> onResume(Resume m) {
    // the resume token must be this session's current one; and a connect token (where required) must name the
    // session's own user: another user holding a stolen resume token does not get the session
    boolean tokenGood = (m.nonce().equals(nonce) || m.nonce().equals(previousNonce))
        && (m.connect().userId().isEmpty() || m.connect().userId().equals(tokenUserId));
    List<Frame> replay = left || !tokenGood || queue.isClosed() ? null : queue.takeOver(m.last());
    if (replay == null) { // the token was used already, the session is ending, or its kept frames do not reach back
      system.tell(new SystemActor.ResumeRefused(m.connect()));
      return this;
    }
    if (detached) {
      detached = false;
      sessions.attachedOrEnded();
      timers.cancel(WindowPassed.INSTANCE);
    }
    epoch++;
    attached = false;
    previousNonce = m.nonce();
    List<Frame> preamble = new ArrayList<>(replay.size() + 1);
    preamble.add(Frame.text(encoder.welcome(clientId, newToken(), Boolean.TRUE)));
    preamble.addAll(replay);
    m.connect().replyTo().tell(new SystemActor.Admitted(getContext().getSelf(), queue, preamble, epoch));
    timers.startSingleTimer(new AttachTimeout(epoch), limits.attachTimeout());
    getContext().getLog().debug("client {} resumed, {} frames replayed", clientId, replay.size());
    return this;
  }

  private Behavior<Command> onJoin(Join m) {
    if (left) { // gone already: no 1001 for a client whose 1002 is on its way
      m.replyTo().tell(ApiResult.okEmptyList());
      system.tell(m.done());
      return this;
    }
    userId = m.userId().isEmpty() ? tokenUserId : m.userId();
    extend = m.extend();
    m.group().tell(new GroupActor.Join(clientId, queue, userId, extend));
    m.group().tell(new GroupActor.Answer<>(ApiResult.okEmptyList(), m.replyTo()));
    m.group().tell(new GroupActor.Answer<>(m.done(), system));
    return this;
  }

  private Behavior<Command> onLeave(Leave m) {
    m.group().tell(new GroupActor.Leave(clientId, userId, extend, m.notifyOthers()));
    m.group().tell(new GroupActor.Answer<>(ApiResult.okEmptyList(), m.replyTo()));
    m.group().tell(new GroupActor.Answer<>(m.done(), system));
    return this;
  }

  /**
   * Stopped while its queue is still open: its system (the parent) was lost, or the actor failed. The server no
   * longer knows this connection, so it closes it with 1011 after the frames already accepted.
   */
  private Behavior<Command> onPostStop(PostStop signal) {
    if (detached) sessions.attachedOrEnded();
    if (!queue.isClosed()) queue.close(CloseCode.INTERNAL_ERROR, "internal error", true);
    return this;
  }
}

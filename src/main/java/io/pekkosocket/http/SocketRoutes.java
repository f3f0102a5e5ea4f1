package io.pekkosocket.http;

import io.pekkosocket.wire.CloseCode;
import io.pekkosocket.Guardian;
import io.pekkosocket.Readiness;
import io.pekkosocket.Settings;
import io.pekkosocket.actors.ClientActor;
import io.pekkosocket.actors.SystemActor;
import io.pekkosocket.auth.ResumeTokens;
import io.pekkosocket.auth.Tokens;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.wire.Ids;
import io.pekkosocket.ops.Metrics;
import io.pekkosocket.ws.ConnectionStage;
import io.pekkosocket.ws.FrameCounters;
import io.pekkosocket.ws.OutboundQueue;
import io.pekkosocket.ws.Frame;
import io.pekkosocket.ws.Upgrade;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /ws?systemId=…}: the WebSocket endpoint. A handshake that passes the cheap checks asks its system for a
 * client through the Guardian ({@link Guardian.ToSystem} with {@link SystemActor.Connect}), exactly as API calls do;
 * an admitted one is upgraded and its ClientActor's queue served by a {@link ConnectionStage} that reports to that
 * ClientActor. A missing or unknown systemId is still upgraded, then answered with the -1001 frame and close 1008,
 * as PROTOCOL.md says; a system that does not admit the client (draining, too many connections) has it upgraded and
 * closed with its code.
 *
 * <p>Budgets: only an upgrade that passes the cheap checks (systemId present, token valid where required) spends
 * {@code handshakes-per-second}, and gives it back if the system turns out unknown; refused upgrades spend
 * {@code refused-handshakes-per-second}, and beyond it get a plain 503 without being upgraded; with
 * {@code handshakes-per-address} on, every upgrade also spends its client address's budget.
 */
public final class SocketRoutes extends AllDirectives {
  private final ActorSystem<?> system;
  private final ActorRef<Guardian.Command> guardian;
  private final Settings settings;
  private final Envelopes envelopes;
  private final FrameEncoder encoder;
  private final ConnectionStage.Limits limits;
  private final Duration askTimeout;
  private final Tokens tokens;
  private final ResumeTokens resumeTokens;
  private final Metrics metrics;
  private final Readiness readiness;
  private final RateLimiter handshakes;
  private final RateLimiter refusals;
  private final AddressLimiter perAddress;

  public SocketRoutes(ActorSystem<?> system, ActorRef<Guardian.Command> guardian, Settings settings,
      Envelopes envelopes, Tokens tokens, ResumeTokens resumeTokens, Metrics metrics, Readiness readiness) {
    this.resumeTokens = resumeTokens;
    this.readiness = readiness;
    this.metrics = metrics;
    this.tokens = tokens;
    this.handshakes = new RateLimiter(settings.handshakesPerSecond());
    this.refusals = new RateLimiter(settings.refusedHandshakesPerSecond());
    this.perAddress = settings.handshakesPerAddress() > 0
        ? new AddressLimiter(settings.handshakesPerAddress(), AddressLimiter.MAX_ADDRESSES) : null;
    this.system = system;
    this.guardian = guardian;
    this.settings = settings;
    this.envelopes = envelopes;
    this.encoder = new FrameEncoder(settings.escapeHtml(), settings.trailingNewline());
    this.limits = new ConnectionStage.Limits(settings.pingInterval(), settings.idleTimeout(), settings.maxFrame(),
        settings.closeTimeout(), settings.inboundRate(), settings.inboundBurst());
    this.askTimeout = settings.askTimeout();
  }

  public Route routes() {
    return path("ws", () -> extractRequest(request -> {
      if (!request.method().equals(HttpMethods.GET)) {
        return envelopes.complete(StatusCodes.METHOD_NOT_ALLOWED, ApiResult.error("method not allowed"));
      }
      Optional<Upgrade> upgrade = Upgrade.of(request);
      if (upgrade.isEmpty()) {
        return envelopes.complete(StatusCodes.BAD_REQUEST, ApiResult.error("expected a WebSocket upgrade"));
      }
      InetAddress from = perAddress == null ? null : addressOf(request);
      if (from != null && !perAddress.tryAcquire(from)) {
        metrics.handshakeFailed("address_rate_limited");
        return busy();
      }
      Optional<String> origin = request.getHeader("Origin").map(h -> h.value());
      if (!settings.allowedOrigins().isEmpty() && origin.isPresent()
          && !settings.allowedOrigins().contains(origin.get())) {
        if (!refusals.tryAcquire()) return refusalsExhausted();
        metrics.handshakeFailed("origin");
        return envelopes.complete(StatusCodes.FORBIDDEN, ApiResult.error("origin not allowed"));
      }
      if (readiness.isDraining()) {
        metrics.handshakeFailed("draining");
        return envelopes.complete(StatusCodes.SERVICE_UNAVAILABLE, ApiResult.error("server is shutting down"));
      }
      String systemId = request.getUri().query().get("systemId")
          .or(() -> request.getHeader("SystemId").map(h -> h.value()))
          .orElse("");
      if (systemId.isEmpty()) return refused("no_system_id", upgrade.get(), -1001, ApiResult.NO_SYSTEM_ID);
      Optional<Tokens.Claims> token = request.getUri().query().get("token").flatMap(tokens::verify);
      // Required: only a client token of this very system. Not required: the token is ignored, except that an API
      // credential in a URL (an admin or system token) is refused all the same, so it cannot keep working from
      // browsers and proxy logs.
      boolean tokenRefused = settings.requireConnectToken()
          ? token.filter(c -> c.mayConnectTo(systemId)).isEmpty()
          : token.filter(c -> c.isAdmin() || Tokens.SYSTEM.equals(c.role())).isPresent();
      if (tokenRefused) return refused("unauthorized", upgrade.get(), -1002, "unauthorized");
      String connectUserId = settings.requireConnectToken() && token.get().userId() != null ? token.get().userId() : "";
      // only an upgrade that passed every cheap check spends the server-wide budget (M8); an unknown system gives
      // its share back and spends the refusals' budget instead
      if (!handshakes.tryAcquire()) {
        metrics.handshakeFailed("rate_limited");
        return busy();
      }
      Resumption resumption = resumption(request, systemId);
      return onSuccess(connect(systemId, connectUserId, resumption), admission -> {
        if (admission.isEmpty()) { // no answer within the ask timeout: nothing was upgraded
          metrics.handshakeFailed("timeout");
          return busy();
        }
        SystemActor.Admission a = admission.get();
        if (a instanceof SystemActor.Admitted admitted) return complete(accept(upgrade.get(), admitted));
        if (a instanceof SystemActor.NotAdmitted n) return complete(closeAtOnce(upgrade.get(), n));
        handshakes.giveBack();
        return refused("unknown_system", upgrade.get(), -1001, ApiResult.UNKNOWN_SYSTEM);
      });
    }));
  }

  /** A refused upgrade, within the refusals' own budget: upgraded, the {@code code} frame, then close 1008. */
  private Route refused(String reason, Upgrade upgrade, int code, String msg) {
    if (!refusals.tryAcquire()) return refusalsExhausted();
    metrics.handshakeFailed(reason);
    return complete(refuse(upgrade, code, msg));
  }

  /** Beyond the refusals' own budget: a plain 503, without upgrading. */
  private Route refusalsExhausted() {
    metrics.handshakeFailed("refused_rate_limited");
    return busy();
  }

  private Route busy() {
    return envelopes.complete(StatusCodes.SERVICE_UNAVAILABLE, ApiResult.error("too many new connections, retry"));
  }

  /** The TCP peer's address (never a forwarded header); null when Pekko did not record it. */
  private static InetAddress addressOf(HttpRequest request) {
    return request.getAttribute(AttributeKeys.remoteAddress)
        .flatMap(RemoteAddress::getAddress)
        .orElse(null);
  }

  /**
   * Asks the system for a client, through the Guardian like any API call: it answers with the new client's queue,
   * a close code, or that the system is unknown. Empty when no answer came within the ask timeout (a client made
   * meanwhile is never attached, and ends at its attach timeout).
   */
  private CompletionStage<Optional<SystemActor.Admission>> connect(String systemId, String userId,
      Resumption resumption) {
    String clientId = Ids.newClientId(settings.nodeId());
    CompletionStage<SystemActor.Admission> answer = Asks.direct(AskPattern.ask(guardian,
        r -> new Guardian.ToSystem(systemId,
            new SystemActor.Connect(clientId, userId, resumption.opening(), resumption.resume(), r)),
        askTimeout, system.scheduler()));
    return answer.handle((a, failure) -> Optional.ofNullable(failure == null ? a : null));
  }

  /** What the handshake asks of resumption: nothing, a resumable session, or to resume one. */
  private record Resumption(ClientActor.Opening opening, SystemActor.Resuming resume) {}

  /** Longer than any messageId: a longer {@code last} is no messageId, and no session could resume from it. */
  private static final int MAX_LAST = 64;

  /**
   * {@code resume=1}: a resumable session. {@code resume=<token>&last=<messageId>}: resume the token's session, if
   * this process signed the token for this system; a token that does not verify is no error, the client just
   * starts afresh ({@code "resumed":false}). No {@code resume}: today's bytes.
   */
  private Resumption resumption(HttpRequest request, String systemId) {
    Optional<String> resume = request.getUri().query().get("resume");
    if (resume.isEmpty()) return new Resumption(ClientActor.Opening.PLAIN, null);
    if (resume.get().equals("1")) return new Resumption(ClientActor.Opening.RESUMABLE, null);
    String last = request.getUri().query().get("last").orElse("");
    Optional<ResumeTokens.Claim> claim = resumeTokens.verify(resume.get(), systemId);
    if (claim.isEmpty() || last.length() > MAX_LAST) {
      return new Resumption(ClientActor.Opening.RESUME_REFUSED, null);
    }
    return new Resumption(ClientActor.Opening.RESUMABLE,
        new SystemActor.Resuming(claim.get().clientId(), claim.get().nonce(), last));
  }

  /** Serves an admitted client's queue on the upgraded socket; the stage reports to the ClientActor. */
  private HttpResponse accept(Upgrade upgrade, SystemActor.Admitted admitted) {
    return upgrade.accept(new ConnectionStage(admitted.queue(), admitted.preamble(), limits,
        counted(admitted.client(), admitted.epoch()), metrics));
  }

  /** Not admitted (draining, too many connections): upgraded, then closed with the system's code at once. */
  private HttpResponse closeAtOnce(Upgrade upgrade, SystemActor.NotAdmitted n) {
    OutboundQueue queue = new OutboundQueue(1, 1, metrics);
    queue.close(n.code(), n.reason(), false);
    return upgrade.accept(new ConnectionStage(queue, limits, counted(null, 0), metrics));
  }

  /**
   * A connection counted in the metrics (open, closed by code, ended) that reports to {@code client}, as socket
   * number {@code epoch} of its session; {@code client} null: a connection closed at once, with no client.
   */
  private ConnectionStage.Listener counted(ActorRef<ClientActor.Command> client, int epoch) {
    return new ConnectionStage.Listener() {
      @Override
      public void opened(OutboundQueue queue) {
        metrics.connectionOpened(queue);
        if (client != null) client.tell(new ClientActor.Attached(epoch));
      }

      @Override
      public void closed(OutboundQueue queue, int code, String reason, boolean lost) {
        metrics.connectionClosed(queue, code);
        if (client != null) client.tell(new ClientActor.ConnectionClosed(epoch, code, lost));
      }

      @Override
      public void ended(OutboundQueue queue) {
        metrics.connectionEnded(queue);
      }
    };
  }

  /** Upgrades, writes the refusal frame, then closes with 1008. */
  private org.apache.pekko.http.javadsl.model.HttpResponse refuse(Upgrade upgrade, int code,
      String msg) {
    OutboundQueue queue = new OutboundQueue(2, Long.MAX_VALUE, FrameCounters.NONE);
    queue.offer(Frame.text(encoder.refusal(code, msg)));
    queue.close(CloseCode.POLICY, code == -1002 ? "unauthorized"
        : msg.equals(ApiResult.NO_SYSTEM_ID) ? "systemId required" : "invalid systemId", true);
    ConnectionStage stage = new ConnectionStage(queue, limits, new ConnectionStage.Listener() {
      @Override
      public void opened(OutboundQueue queue) {}

      @Override
      public void closed(OutboundQueue queue, int closeCode, String reason, boolean lost) {}
    }, FrameCounters.NONE);
    return upgrade.accept(stage);
  }
}

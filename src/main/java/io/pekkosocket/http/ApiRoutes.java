package io.pekkosocket.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pekkosocket.Admission;
import io.pekkosocket.Guardian;
import io.pekkosocket.Settings;
import io.pekkosocket.actors.Deadline;
import io.pekkosocket.actors.SystemActor;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.wire.Push;
import java.time.Duration;
import io.pekkosocket.auth.Tokens;
import io.pekkosocket.registry.SystemIds;
import io.pekkosocket.ops.Metrics;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * {@code POST /api/<operation>}: reads the body, checks what PROTOCOL.md requires, and turns the call into one ask
 * on the hierarchy ({@link Guardian}). Errors the route itself can tell (method, body, required fields, a push too
 * large for any connection's queue) are answered here; everything about systems, clients and groups is answered by
 * the actors.
 *
 * <p>Admission (issue 8): a system's commands in flight are bounded ({@link Admission}); beyond the limit the call
 * is answered 503 at once. Every command carries its deadline, ask-timeout from now; the actor that would run it
 * answers "busy" (503) instead once that has passed. The route waits ask-timeout plus {@code deadline-grace} for
 * the answer, so a caller answered 503 because the wait ran out is never one whose command starts later.
 */
public final class ApiRoutes extends AllDirectives {
  private final ActorSystem<?> system;
  private final ActorRef<Guardian.Command> guardian;
  private final Settings settings;
  private final ObjectMapper mapper;
  private final Envelopes envelopes;
  private final Duration askTimeout;
  private final Duration answerTimeout;
  private final Tokens tokens;
  private final Metrics metrics;
  private final Admission admission;
  private final FrameEncoder encoder;

  public ApiRoutes(ActorSystem<?> system, ActorRef<Guardian.Command> guardian, Settings settings,
      ObjectMapper mapper, Envelopes envelopes, Tokens tokens, Metrics metrics, Admission admission) {
    this.admission = admission;
    this.encoder = new FrameEncoder(settings.escapeHtml(), settings.trailingNewline());
    this.tokens = tokens;
    this.metrics = metrics;
    this.system = system;
    this.guardian = guardian;
    this.settings = settings;
    this.mapper = mapper;
    this.envelopes = envelopes;
    this.askTimeout = settings.askTimeout();
    this.answerTimeout = settings.askTimeout().plus(settings.deadlineGrace());
  }

  public Route routes() {
    return pathPrefix("api", () -> path(PathMatchers.segment(), operation -> {
      long start = System.nanoTime();
      return mapResponse(response -> {
        metrics.apiRequest(operation, response.status().intValue(), System.nanoTime() - start);
        return response;
      }, () -> envelopes.handled(operation(operation)));
    }));
  }

  private Route operation(String operation) {
    return extractMethod(method -> {
          if (!method.equals(HttpMethods.POST)) {
            return envelopes.complete(StatusCodes.METHOD_NOT_ALLOWED, ApiResult.error("method not allowed"));
          }
          return optionalHeaderValueByName("Authorization", authorization ->
              optionalHeaderValueByName("SystemId", systemIdHeader -> {
                String systemId = systemIdHeader.orElse("");
                Optional<Tokens.Claims> claims = tokens.verifyBearer(authorization.orElse(null));
                if (claims.isEmpty() || !keyFits(claims.get(), systemId)) {
                  return envelopes.complete(StatusCodes.UNAUTHORIZED, ApiResult.error("unauthorized"));
                }
                if (!permits(claims.get(), operation, systemId)) {
                  return envelopes.complete(StatusCodes.FORBIDDEN, ApiResult.error("forbidden"));
                }
                return withSizeLimit(settings.maxBody(), () ->
                    entity(Unmarshaller.entityToByteArray(), body ->
                        onSuccess(call(operation, body, systemId), envelopes::answer)));
              }));
        });
  }

  /**
   * A token signed with a system's own key verifies only for that system: its {@code SystemId} header must be the
   * kid (the kid already equals the token's systemId claim, {@link Tokens}). Anything else is 401, as if the key had
   * not verified; tokens signed with the server's secret have no kid.
   */
  private static boolean keyFits(Tokens.Claims claims, String systemId) {
    return claims.kid() == null || claims.kid().equals(systemId);
  }

  /** Operations only an admin token may call. */
  private static boolean adminOnly(String operation) {
    return operation.equals("register") || operation.equals("rotate_system_key");
  }

  /**
   * An admin token may do anything; a system token may act only on its own system (a missing SystemId header is
   * left to the usual {@code 系统ID不能为空} answer) and never call the admin operations; a client token is good only
   * for {@code /ws}, never here.
   */
  private static boolean permits(Tokens.Claims claims, String operation, String systemId) {
    if (claims.isAdmin()) return true;
    if (!Tokens.SYSTEM.equals(claims.role()) || adminOnly(operation)) return false;
    return systemId.isEmpty() || claims.mayActOn(systemId);
  }

  private CompletionStage<ApiResult> call(String operation, byte[] body, String systemId) {
    // Everything the body can get wrong is found here, before the ask: a 400 never leaves a pending ask behind.
    ApiRequest req = ApiRequest.parse(body, mapper);
    if (operation.equals("register")) return register(req);
    if (operation.equals("rotate_system_key")) return rotateSystemKey(req);
    BiFunction<Deadline, ActorRef<ApiResult>, SystemActor.ApiCommand> command;
    switch (operation) {
      case "send_to_client" -> {
        String clientId = req.string("clientId");
        if (clientId.isEmpty()) return done(ApiResult.required("ClientId"));
        Push push = req.push();
        if (tooLarge(push)) return done(ApiResult.TOO_LARGE);
        command = (d, r) -> new SystemActor.SendToClient(clientId, push, d, r);
      }
      case "send_to_clients" -> {
        List<String> clientIds = req.strings("clientIds");
        if (clientIds == null) return done(ApiResult.required("ClientIds"));
        if (clientIds.size() > settings.maxClientIdsPerSend()) {
          return done(ApiResult.error("too many clientIds (limit " + settings.maxClientIdsPerSend() + ")"));
        }
        Push push = req.push();
        if (tooLarge(push)) return done(ApiResult.TOO_LARGE);
        command = (d, r) -> new SystemActor.SendToClients(List.copyOf(clientIds), push, d, r);
      }
      case "send_to_group" -> {
        String groupName = req.string("groupName");
        if (groupName.isEmpty()) return done(ApiResult.required("GroupName"));
        if (groupName.length() > settings.maxGroupName()) return done(tooLong("groupName", settings.maxGroupName()));
        Push push = req.push();
        if (tooLarge(push)) return done(ApiResult.TOO_LARGE);
        command = (d, r) -> new SystemActor.SendToGroup(groupName, push, d, r);
      }
      case "send_to_system" -> {
        Push push = req.push();
        if (tooLarge(push)) return done(ApiResult.TOO_LARGE);
        command = (d, r) -> new SystemActor.SendToSystem(push, d, r);
      }
      case "bind_to_group" -> {
        String clientId = req.string("clientId");
        String groupName = req.string("groupName");
        String userId = req.string("userId");
        String extend = req.string("extend");
        if (clientId.isEmpty()) return done(ApiResult.required("ClientId"));
        if (groupName.isEmpty()) return done(ApiResult.required("GroupName"));
        if (groupName.length() > settings.maxGroupName()) return done(tooLong("groupName", settings.maxGroupName()));
        if (userId.length() > settings.maxUserField()) return done(tooLong("userId", settings.maxUserField()));
        if (extend.length() > settings.maxUserField()) return done(tooLong("extend", settings.maxUserField()));
        command = (d, r) -> new SystemActor.Bind(clientId, groupName, userId, extend, d, r);
      }
      case "unbind_from_group" -> {
        String clientId = req.string("clientId");
        String groupName = req.string("groupName");
        if (clientId.isEmpty()) return done(ApiResult.required("ClientId"));
        if (groupName.isEmpty()) return done(ApiResult.required("GroupName"));
        command = (d, r) -> new SystemActor.Unbind(clientId, groupName, d, r);
      }
      case "get_online_list" -> {
        String groupName = req.string("groupName");
        if (groupName.isEmpty()) return done(ApiResult.required("GroupName"));
        command = (d, r) -> new SystemActor.GetOnlineList(groupName, d, r);
      }
      case "get_all_groups" -> {
        req.string("clientId"); // accepted, unused; still type-checked
        command = SystemActor.GetAllGroups::new;
      }
      case "close_client" -> {
        String clientId = req.string("clientId");
        if (clientId.isEmpty()) return done(ApiResult.required("ClientId"));
        command = (d, r) -> new SystemActor.CloseClient(clientId, d, r);
      }
      default -> throw new Envelopes.NotFound("unknown operation: " + operation);
    }
    if (systemId.isEmpty()) return done(ApiResult.error(ApiResult.NO_SYSTEM_ID));
    return admitted(systemId, 1, command);
  }

  /**
   * Asks the system to run {@code commands} commands (one; a batch counts as its size) if its in-flight limit has
   * room, else answers busy at once. The permits come back with the answer or its timeout. An unregistered system
   * has no counter: the Guardian answers it {@code 系统ID无效} at once.
   */
  private CompletionStage<ApiResult> admitted(String systemId, int commands,
      BiFunction<Deadline, ActorRef<ApiResult>, SystemActor.ApiCommand> command) {
    Admission.InFlight inFlight = admission.of(systemId);
    if (inFlight != null && !inFlight.tryAcquire(commands)) return done(ApiResult.BUSY);
    Deadline deadline = Deadline.after(askTimeout);
    CompletionStage<ApiResult> asked = AskPattern.ask(guardian,
        r -> new Guardian.ForSystem(systemId, command.apply(deadline, r)), answerTimeout, system.scheduler());
    // the permits come back when the actor has answered (a given-up command is answered busy when it is reached),
    // so what waits in a system's mailbox stays within its limit
    if (inFlight != null) asked.whenComplete((result, failure) -> inFlight.release(commands));
    return decided(deadline, asked);
  }

  /**
   * The caller's answer: at the deadline, a command that has not started is given up and answered 503 at once (it
   * will never run); one that has started is waited for, up to the grace, and if even that passes the answer is 504
   * "outcome unknown", never a 503 that could be untrue.
   */
  private CompletionStage<ApiResult> decided(Deadline deadline, CompletionStage<ApiResult> asked) {
    CompletableFuture<ApiResult> answer = new CompletableFuture<>();
    org.apache.pekko.actor.Cancellable atDeadline = system.scheduler().scheduleOnce(askTimeout, () -> {
      if (deadline.abandon()) answer.complete(ApiResult.BUSY);
    }, system.executionContext());
    asked.whenComplete((result, failure) -> {
      atDeadline.cancel(); // nothing to decide once the actor has answered
      if (failure == null) answer.complete(result);
      else if (deadline.started()) answer.complete(ApiResult.OUTCOME_UNKNOWN);
      else answer.completeExceptionally(failure);
    });
    return answer;
  }

  /**
   * A push whose frame, once encoded (escaping can make one character six bytes), is larger than a connection's
   * whole outbound queue could never be accepted by anyone: it is refused here, before any fan-out. Most pushes
   * are decided by a bound, without encoding.
   */
  private boolean tooLarge(Push push) {
    long limit = settings.outboundBytes();
    return FrameEncoder.pushBytesAtMost(push) > limit && encoder.pushBytes(push) > limit;
  }

  private CompletionStage<ApiResult> register(ApiRequest req) {
    String systemId = req.string("systemId");
    if (systemId.isEmpty()) return done(ApiResult.required("SystemId"));
    String problem = SystemIds.problem(systemId);
    if (problem != null) return done(ApiResult.error(problem));
    Deadline deadline = Deadline.after(askTimeout);
    return decided(deadline, AskPattern.ask(guardian, r -> new Guardian.Register(systemId, deadline, r),
        answerTimeout, system.scheduler()));
  }

  /** The longest grace a rotation may give the previous key. */
  static final long MAX_GRACE_SECONDS = Duration.ofDays(30).toSeconds();
  static final long DEFAULT_GRACE_SECONDS = Duration.ofDays(1).toSeconds();

  /** Admin: a new signing key for the system named in the body (not the SystemId header). */
  private CompletionStage<ApiResult> rotateSystemKey(ApiRequest req) {
    String systemId = req.string("systemId");
    long grace = req.integer("graceSeconds", DEFAULT_GRACE_SECONDS);
    if (systemId.isEmpty()) return done(ApiResult.required("SystemId"));
    if (grace < 0 || grace > MAX_GRACE_SECONDS) {
      return done(ApiResult.error("graceSeconds must be an integer from 0 to " + MAX_GRACE_SECONDS));
    }
    Duration graceDuration = Duration.ofSeconds(grace);
    Admission.InFlight inFlight = admission.of(systemId);
    if (inFlight != null && !inFlight.tryAcquire(1)) return done(ApiResult.BUSY);
    Deadline deadline = Deadline.after(askTimeout);
    CompletionStage<ApiResult> asked = AskPattern.ask(guardian,
        r -> new Guardian.RotateKey(systemId, graceDuration, deadline, r), answerTimeout, system.scheduler());
    if (inFlight != null) asked.whenComplete((result, failure) -> inFlight.release(1));
    return decided(deadline, asked);
  }

  private static ApiResult tooLong(String field, int max) {
    return ApiResult.error(field + " too long (max " + max + " characters)");
  }

  private static CompletionStage<ApiResult> done(ApiResult r) {
    return CompletableFuture.completedFuture(r);
  }
}

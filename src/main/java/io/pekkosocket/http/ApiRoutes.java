package io.pekkosocket.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pekkosocket.Admission;
import io.pekkosocket.Guardian;
import io.pekkosocket.Settings;
import io.pekkosocket.actors.Deadline;
import io.pekkosocket.api.Limits;
import io.pekkosocket.api.Operation;
import io.pekkosocket.api.Refused;
import io.pekkosocket.api.Request;
import io.pekkosocket.actors.SystemActor;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.FrameEncoder;
import java.time.Duration;
import io.pekkosocket.auth.Tokens;
import io.pekkosocket.ops.Metrics;
import io.pekkosocket.api.Body;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * {@code POST /api/<operation>}: reads the body, reads and checks the operation's request as declared in
 * {@link Operation}, and turns the call into one ask on the hierarchy ({@link Guardian}). Errors the route itself can tell (method, body, required fields, a push too
 * large for any connection's queue) are answered here; everything about systems, clients and groups is answered by
 * the actors.
 *
 * <p>Admission (issue 8): a system's commands in flight, and their bytes, are bounded ({@link Admission}); beyond
 * the limit the call is answered 503 at once. Every command carries its {@link Deadline}, ask-timeout from now: at
 * the deadline the route gives up a command that has not started (503, it never runs), and waits up to
 * {@code deadline-grace} more for one that has (504 if even that passes).
 */
public final class ApiRoutes extends AllDirectives {
  private final ActorSystem<?> system;
  private final ActorRef<Guardian.Command> guardian;
  private final Settings settings;
  private final ObjectMapper mapper;
  private final Envelopes envelopes;
  private final Duration askTimeout;
  private final Duration answerTimeout;
  private final Duration deadlineGrace;
  private final Tokens tokens;
  private final Metrics metrics;
  private final Admission admission;
  private final Limits limits;

  public ApiRoutes(ActorSystem<?> system, ActorRef<Guardian.Command> guardian, Settings settings,
      ObjectMapper mapper, Envelopes envelopes, Tokens tokens, Metrics metrics, Admission admission) {
    this.admission = admission;
    this.limits = new Limits(settings.maxGroupName(), settings.maxUserField(), settings.maxClientIdsPerSend(),
        settings.outboundBytes(), new FrameEncoder(settings.escapeHtml(), settings.trailingNewline()),
        settings.maxBatch());
    this.tokens = tokens;
    this.metrics = metrics;
    this.system = system;
    this.guardian = guardian;
    this.settings = settings;
    this.mapper = mapper;
    this.envelopes = envelopes;
    this.askTimeout = settings.askTimeout();
    this.answerTimeout = settings.askTimeout().plus(settings.deadlineGrace());
    this.deadlineGrace = settings.deadlineGrace();
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

  /**
   * The common API call answered without the routing DSL (lever 8 of the performance study, docs/ARCHITECTURE.md
   * "How an API call travels"): a {@code POST /api/<operation>} whose whole body has arrived with its headers, at
   * most {@code max-body}, that accepts JSON. It runs exactly the steps of {@link #routes()} (auth, the operation's
   * reading, the same {@link #call}) and writes the same envelope bytes. Anything else, and any call whose reading
   * fails before it is asked, is left to {@link #routes()} (answers {@code null}), which answers it as always: no
   * doubt is decided here, and nothing is asked twice (a call is asked only once its reading has succeeded).
   */
  public CompletionStage<HttpResponse> direct(HttpRequest request) {
    if (!request.method().equals(HttpMethods.POST) || !(request.entity() instanceof HttpEntity.Strict strict)) {
      return null;
    }
    String operation = operationOf(request.getUri().path());
    if (operation == null || strict.getData().length() > settings.maxBody() || !acceptsJson(request)) return null;
    long start = System.nanoTime();
    String authorization = request.getHeader("Authorization").map(HttpHeader::value).orElse(null);
    String systemId = request.getHeader("SystemId").map(HttpHeader::value).orElse("");
    Envelopes.Answer refused = refusal(authorization, operation, systemId);
    CompletionStage<Envelopes.Answer> answer;
    if (refused != null) {
      answer = CompletableFuture.completedFuture(refused);
    } else {
      CompletionStage<? extends ApiResult<?>> called;
      try {
        called = call(operation, strict.getData().toArray(), systemId);
      } catch (ApiRequest.BadRequest | io.pekkosocket.api.Malformed | Envelopes.NotFound unread) {
        return null; // a body or operation the route will refuse, with its own envelope; nothing was asked
      } catch (RuntimeException e) {
        called = CompletableFuture.failedFuture(e); // not a reading error: maybe asked already, answered as such
      }
      answer = called.handle((result, failure) -> failure == null
          ? new Envelopes.Answer(Envelopes.statusOf(result), result)
          : Envelopes.ofFailure(failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null
              ? c.getCause() : failure));
    }
    return answer.thenApply(a -> {
      metrics.apiRequest(operation, a.status().intValue(), System.nanoTime() - start);
      metrics.apiDirect();
      try {
        return envelopes.response(a.status(), a.result());
      } catch (RuntimeException e) {
        Envelopes.Answer failed = Envelopes.ofFailure(e);
        return envelopes.response(failed.status(), failed.result());
      }
    });
  }

  /** {@code <operation>} of {@code /api/<operation>} when it is a plain name, else null (the route decides). */
  private static String operationOf(String path) {
    if (!path.startsWith("/api/") || path.length() == 5) return null;
    for (int i = 5; i < path.length(); i++) {
      char c = path.charAt(i);
      if ((c < 'a' || c > 'z') && c != '_') return null;
    }
    return path.substring(5);
  }

  /** No Accept header, or one that plainly takes JSON: anything subtler is the route's content negotiation. */
  private static boolean acceptsJson(HttpRequest request) {
    String accept = null;
    for (HttpHeader h : request.getHeaders()) {
      if (h.is("accept-charset")) return false;
      if (h.is("accept")) {
        if (accept != null) return false; // several: Pekko negotiates over all of them
        accept = h.value().trim();
      }
    }
    return accept == null || accept.equals("*/*") || accept.equals("application/json");
  }

  private Route operation(String operation) {
    return extractMethod(method -> {
          if (!method.equals(HttpMethods.POST)) {
            return envelopes.complete(StatusCodes.METHOD_NOT_ALLOWED, ApiResult.error("method not allowed"));
          }
          return optionalHeaderValueByName("Authorization", authorization ->
              optionalHeaderValueByName("SystemId", systemIdHeader -> {
                String systemId = systemIdHeader.orElse("");
                Envelopes.Answer refused = refusal(authorization.orElse(null), operation, systemId);
                if (refused != null) return envelopes.complete(refused.status(), refused.result());
                return withSizeLimit(settings.maxBody(), () ->
                    entity(Unmarshaller.entityToByteArray(), body ->
                        onSuccess(call(operation, body, systemId), envelopes::answer)));
              }));
        });
  }

  /** The 401 or 403 a call with this {@code Authorization} header gets, or null when it may go on. */
  private Envelopes.Answer refusal(String authorization, String operation, String systemId) {
    Optional<Tokens.Claims> claims = tokens.verifyBearer(authorization);
    if (claims.isEmpty() || !keyFits(claims.get(), systemId)) {
      return new Envelopes.Answer(StatusCodes.UNAUTHORIZED, ApiResult.error("unauthorized"));
    }
    if (!permits(claims.get(), operation, systemId)) {
      return new Envelopes.Answer(StatusCodes.FORBIDDEN, ApiResult.error("forbidden"));
    }
    return null;
  }

  /**
   * A token signed with a system's own key verifies only for that system: its {@code SystemId} header must be the
   * kid (the kid already equals the token's systemId claim, {@link Tokens}). Anything else is 401, as if the key had
   * not verified; tokens signed with the server's secret have no kid.
   */
  private static boolean keyFits(Tokens.Claims claims, String systemId) {
    return claims.kid() == null || claims.kid().equals(systemId);
  }

  /** Operations only an admin token may call ({@link Operation#adminOnly()}). */
  private static boolean adminOnly(String operation) {
    Operation op = Operation.named(operation);
    return op != null && op.adminOnly();
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

  private CompletionStage<? extends ApiResult<?>> call(String name, byte[] body, String systemId) {
    // Everything the body can get wrong is found here, before the ask: a 400 never leaves a pending ask behind.
    ApiRequest req = ApiRequest.parse(body, mapper);
    Operation operation = Operation.named(name);
    if (operation == null) throw new Envelopes.NotFound("unknown operation: " + name);
    Request request;
    try {
      request = operation.read(req, limits);
    } catch (Refused refused) {
      return done(refused.answer());
    }
    if (request instanceof Request.Register r) return register(r);
    if (request instanceof Request.RotateKey r) return rotateSystemKey(r);
    if (systemId.isEmpty()) return done(ApiResult.error(ApiResult.NO_SYSTEM_ID));
    if (request instanceof Request.Batch b) return batch(systemId, body.length, b);
    return system(systemId, body.length, request);
  }

  /**
   * {@code batch}: the commands run one after another, each asked once the one before it has been answered (so it
   * sees its effects), each answered with its own envelope; a command that cannot be read fails alone. The one
   * exception is a run of consecutive direct sends ({@code send_to_client}, {@code send_to_clients}): they change
   * nothing another command could see, and each is handed to its system in order on the path a single call takes
   * (a client's sends always take the same path, and every hop keeps the order of its sender), so they are asked
   * together, in order, and their answers collected in order: one trip through the actors for the run instead of
   * one per command. Not in cluster mode: there a send to another node's client travels through a gather actor of
   * its own, and two of those keep no order between them. The batch takes one in-flight permit per command (all or
   * nothing: 503 for the whole batch) and gives them back when it is done. All its commands share one deadline,
   * {@code ask-timeout} after the batch was admitted: a command not started by then is answered busy and never runs.
   */
  private CompletionStage<ApiResult<ApiResult.BatchResults>> batch(String systemId, long bytes, Request.Batch b) {
    int n = b.commands().size();
    Admission.InFlight inFlight = admission.of(systemId);
    if (inFlight != null && !inFlight.tryAcquire(n, bytes)) return done(ApiResult.busy());
    long deadline = System.nanoTime() + askTimeout.toNanos();
    List<ApiResult<?>> results = new ArrayList<>(n);
    CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
    List<Body> commands = b.commands();
    for (int i = 0; i < n; ) {
      int end = i + 1;
      if (!settings.cluster().enabled() && directSend(commands.get(i))) {
        while (end < n && directSend(commands.get(end))) end++;
      }
      List<Body> run = commands.subList(i, end);
      chain = chain.thenCompose(x -> {
        List<CompletableFuture<? extends ApiResult<?>>> asked = new ArrayList<>(run.size());
        for (Body command : run) asked.add(batchCommand(systemId, command, deadline).toCompletableFuture());
        return CompletableFuture.allOf(asked.toArray(CompletableFuture[]::new))
            .thenRun(() -> asked.forEach(a -> results.add(a.join())));
      });
      i = end;
    }
    return chain.handle((x, failure) -> {
      if (inFlight != null) inFlight.release(n, bytes);
      if (failure != null) throw new java.util.concurrent.CompletionException(failure);
      return ApiResult.ok(new ApiResult.BatchResults(List.copyOf(results)));
    });
  }

  /** A batch command that only sends to clients named by id: it changes nothing the next command could see. */
  private static boolean directSend(Body command) {
    if (command == null) return false;
    try {
      String op = command.string("op");
      return op.equals("send_to_client") || op.equals("send_to_clients");
    } catch (RuntimeException unreadable) {
      return false; // answered alone, with its own error
    }
  }

  /** One command of a batch: read, then asked with the batch's deadline; any failure is its own result. */
  private CompletionStage<? extends ApiResult<?>> batchCommand(String systemId, Body command, long deadlineNanos) {
    Request request;
    try {
      if (command == null) return done(ApiResult.error("a command must be an object"));
      String op = command.string("op");
      if (!Request.Batch.OPERATIONS.contains(op)) {
        return done(ApiResult.error(op.isEmpty() ? "op is required" : "op not allowed in a batch: " + op));
      }
      request = Operation.named(op).read(command, limits);
    } catch (Refused refused) {
      return done(refused.answer());
    } catch (ApiRequest.BadRequest | io.pekkosocket.api.Malformed wrong) {
      return done(ApiResult.error(wrong.getMessage()));
    }
    Deadline deadline = new Deadline(deadlineNanos);
    if (deadline.remainingNanos() <= 0) return done(ApiResult.busy()); // the batch ran out of time: never asked
    return inBatch(deadline, system(request, batchAsker(systemId, deadline)));
  }

  /** Runs {@code request} as its system's command: one ask, answered with the command's own reply type. */
  private CompletionStage<? extends ApiResult<?>> system(String systemId, long bytes, Request request) {
    return system(request, new Asker() {
      @Override
      public <R> CompletionStage<ApiResult<R>> ask(Class<R> reply,
          BiFunction<Deadline, ActorRef<ApiResult<R>>, SystemActor.ApiCommand<R>> command) {
        return ApiRoutes.this.ask(systemId, bytes, reply, command);
      }
    });
  }

  /** A batch's command: asked without admission of its own (the batch holds its permits), with the batch's deadline. */
  private Asker batchAsker(String systemId, Deadline deadline) {
    return new Asker() {
      @Override
      public <R> CompletionStage<ApiResult<R>> ask(Class<R> reply,
          BiFunction<Deadline, ActorRef<ApiResult<R>>, SystemActor.ApiCommand<R>> command) {
        return Asks.direct(AskPattern.ask(guardian,
            r -> new Guardian.ForSystem(systemId, command.apply(deadline, r)),
            Duration.ofNanos(Math.max(0, deadline.remainingNanos())).plus(deadlineGrace), system.scheduler()));
      }
    };
  }

  /** How a command is asked: alone (admitted on its own) or as part of a batch. */
  private interface Asker {
    <R> CompletionStage<ApiResult<R>> ask(Class<R> reply,
        BiFunction<Deadline, ActorRef<ApiResult<R>>, SystemActor.ApiCommand<R>> command);
  }

  /** A batch command's answer: past its deadline and grace, busy if it never started, else "may have run". */
  private static CompletionStage<? extends ApiResult<?>> inBatch(Deadline deadline,
      CompletionStage<? extends ApiResult<?>> asked) {
    return asked.handle((result, failure) -> {
      if (failure == null) return result;
      return deadline.abandon() ? ApiResult.busy() : ApiResult.outcomeUnknown();
    });
  }

  /** The system command that runs {@code request}, asked by {@code asker}. */
  private static CompletionStage<? extends ApiResult<?>> system(Request request, Asker asker) {
    if (request instanceof Request.SendToClient r) {
      return asker.ask(ApiResult.ClientDelivery.class,
          (d, to) -> new SystemActor.SendToClient(r.clientId(), r.push(), d, to));
    }
    if (request instanceof Request.SendToClients r) {
      return asker.ask(ApiResult.ClientsDelivery.class,
          (d, to) -> new SystemActor.SendToClients(r.clientIds(), r.push(), d, to));
    }
    if (request instanceof Request.SendToGroup r) {
      return asker.ask(ApiResult.FanOutDelivery.class,
          (d, to) -> new SystemActor.SendToGroup(r.groupName(), r.push(), d, to));
    }
    if (request instanceof Request.SendToSystem r) {
      return asker.ask(ApiResult.FanOutDelivery.class,
          (d, to) -> new SystemActor.SendToSystem(r.push(), d, to));
    }
    if (request instanceof Request.Bind r) {
      return asker.ask(ApiResult.Empty.class,
          (d, to) -> new SystemActor.Bind(r.clientId(), r.groupName(), r.userId(), r.extend(), d, to));
    }
    if (request instanceof Request.Unbind r) {
      return asker.ask(ApiResult.Empty.class,
          (d, to) -> new SystemActor.Unbind(r.clientId(), r.groupName(), d, to));
    }
    if (request instanceof Request.GetOnlineList r) {
      return asker.ask(ApiResult.OnlineList.class,
          (d, to) -> new SystemActor.GetOnlineList(r.groupName(), d, to));
    }
    if (request instanceof Request.GetAllGroups) return asker.ask(ApiResult.AllGroups.class, SystemActor.GetAllGroups::new);
    if (request instanceof Request.CloseClient r) {
      return asker.ask(ApiResult.Empty.class,
          (d, to) -> new SystemActor.CloseClient(r.clientId(), d, to));
    }
    throw new IllegalStateException("no system command for " + request);
  }

  /** One ask for a command whose answer carries {@code reply} ({@code api/Operation} declares it). */
  private <R> CompletionStage<ApiResult<R>> ask(String systemId, long bytes, Class<R> reply,
      BiFunction<Deadline, ActorRef<ApiResult<R>>, SystemActor.ApiCommand<R>> command) {
    return admitted(systemId, 1, bytes, (d, to) -> new Guardian.ForSystem(systemId, command.apply(d, to)));
  }

  /**
   * Asks the system to run {@code commands} commands (one; a batch counts as its size) if its in-flight limit has
   * room, else answers busy at once. The permits come back with the answer or its timeout. An unregistered system
   * has no counter: the Guardian answers it {@code 系统ID无效} at once.
   */
  private <R> CompletionStage<ApiResult<R>> admitted(String systemId, int commands, long bytes,
      BiFunction<Deadline, ActorRef<ApiResult<R>>, Guardian.Command> message) {
    Admission.InFlight inFlight = admission.of(systemId);
    if (inFlight != null && !inFlight.tryAcquire(commands, bytes)) return done(ApiResult.busy());
    Deadline deadline = Deadline.after(askTimeout);
    CompletionStage<ApiResult<R>> asked = Asks.direct(AskPattern.ask(guardian, r -> message.apply(deadline, r),
        answerTimeout, system.scheduler()));
    // the permits come back when the actor has answered (a given-up command is answered busy when it is reached),
    // so what waits in a system's mailbox stays within its limit; and before the caller has that answer, so a call
    // it makes next finds them back
    if (inFlight != null) asked = asked.whenComplete((result, failure) -> inFlight.release(commands, bytes));
    return decided(deadline, asked);
  }

  /**
   * The caller's answer: at the deadline, a command that has not started is given up and answered 503 at once (it
   * will never run); one that has started is waited for, up to the grace, and if even that passes the answer is 504
   * "outcome unknown", never a 503 that could be untrue.
   */
  private <R> CompletionStage<ApiResult<R>> decided(Deadline deadline, CompletionStage<ApiResult<R>> asked) {
    CompletableFuture<ApiResult<R>> answer = new CompletableFuture<>();
    org.apache.pekko.actor.Cancellable atDeadline = system.scheduler().scheduleOnce(askTimeout, () -> {
      if (deadline.abandon()) answer.complete(ApiResult.busy());
    }, system.executionContext());
    asked.whenComplete((result, failure) -> {
      atDeadline.cancel(); // nothing to decide once the actor has answered
      if (failure == null) answer.complete(result);
      else if (deadline.started()) answer.complete(ApiResult.outcomeUnknown());
      else answer.completeExceptionally(failure);
    });
    return answer;
  }

  private CompletionStage<ApiResult<ApiResult.Empty>> register(Request.Register r) {
    Deadline deadline = Deadline.after(askTimeout);
    return decided(deadline, Asks.direct(AskPattern.ask(guardian,
        to -> new Guardian.Register(r.systemId(), deadline, to), answerTimeout, system.scheduler())));
  }

  /** Admin: a new signing key for the system named in the body (not the SystemId header). */
  private CompletionStage<ApiResult<ApiResult.KeyRotated>> rotateSystemKey(Request.RotateKey r) {
    return admitted(r.systemId(), 1, 0, (d, to) -> new Guardian.RotateKey(r.systemId(), r.grace(), d, to));
  }

  private static <R> CompletionStage<ApiResult<R>> done(ApiResult<R> r) {
    return CompletableFuture.completedFuture(r);
  }
}

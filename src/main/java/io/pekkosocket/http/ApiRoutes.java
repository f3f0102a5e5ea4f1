package io.pekkosocket.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pekkosocket.Guardian;
import io.pekkosocket.Settings;
import io.pekkosocket.actors.SystemActor;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.Push;
import java.time.Duration;
import io.pekkosocket.auth.Tokens;
import io.pekkosocket.registry.SystemIds;
import io.pekkosocket.ops.Metrics;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
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
 * on the hierarchy ({@link Guardian}). Errors the route itself can tell (method, body, required fields) are
 * answered here; everything about systems, clients and groups is answered by the actors.
 */
public final class ApiRoutes extends AllDirectives {
  private final ActorSystem<?> system;
  private final ActorRef<Guardian.Command> guardian;
  private final Settings settings;
  private final ObjectMapper mapper;
  private final Envelopes envelopes;
  private final Duration askTimeout;
  private final Tokens tokens;
  private final Metrics metrics;

  public ApiRoutes(ActorSystem<?> system, ActorRef<Guardian.Command> guardian, Settings settings,
      ObjectMapper mapper, Envelopes envelopes, Tokens tokens, Metrics metrics) {
    this.tokens = tokens;
    this.metrics = metrics;
    this.system = system;
    this.guardian = guardian;
    this.settings = settings;
    this.mapper = mapper;
    this.envelopes = envelopes;
    this.askTimeout = settings.askTimeout();
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
                if (claims.isEmpty()) {
                  return envelopes.complete(StatusCodes.UNAUTHORIZED, ApiResult.error("unauthorized"));
                }
                if (!permits(claims.get(), operation, systemId)) {
                  return envelopes.complete(StatusCodes.FORBIDDEN, ApiResult.error("forbidden"));
                }
                return withSizeLimit(settings.maxBody(), () ->
                    entity(Unmarshaller.entityToByteArray(), body ->
                        onSuccess(call(operation, body, systemId),
                            result -> envelopes.complete(StatusCodes.OK, result))));
              }));
        });
  }

  /**
   * An admin token may do anything; a system token may act only on its own system (a missing SystemId header is
   * left to the usual {@code 系统ID不能为空} answer) and never register.
   */
  private static boolean permits(Tokens.Claims claims, String operation, String systemId) {
    if (claims.isAdmin()) return true;
    if (!Tokens.SYSTEM.equals(claims.role()) || operation.equals("register")) return false;
    return systemId.isEmpty() || claims.mayActOn(systemId);
  }

  private CompletionStage<ApiResult> call(String operation, byte[] body, String systemId) {
    // Everything the body can get wrong is found here, before the ask: a 400 never leaves a pending ask behind.
    ApiRequest req = ApiRequest.parse(body, mapper);
    if (operation.equals("register")) return register(req);
    Function<ActorRef<ApiResult>, SystemActor.ApiCommand> command;
    switch (operation) {
      case "send_to_client" -> {
        String clientId = req.string("clientId");
        if (clientId.isEmpty()) return done(ApiResult.required("ClientId"));
        Push push = req.push();
        command = r -> new SystemActor.SendToClient(clientId, push, r);
      }
      case "send_to_clients" -> {
        List<String> clientIds = req.strings("clientIds");
        if (clientIds == null) return done(ApiResult.required("ClientIds"));
        if (clientIds.size() > settings.maxClientIdsPerSend()) {
          return done(ApiResult.error("too many clientIds (limit " + settings.maxClientIdsPerSend() + ")"));
        }
        Push push = req.push();
        command = r -> new SystemActor.SendToClients(List.copyOf(clientIds), push, r);
      }
      case "send_to_group" -> {
        String groupName = req.string("groupName");
        if (groupName.isEmpty()) return done(ApiResult.required("GroupName"));
        if (groupName.length() > settings.maxGroupName()) return done(tooLong("groupName", settings.maxGroupName()));
        Push push = req.push();
        command = r -> new SystemActor.SendToGroup(groupName, push, r);
      }
      case "send_to_system" -> {
        Push push = req.push();
        command = r -> new SystemActor.SendToSystem(push, r);
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
        command = r -> new SystemActor.Bind(clientId, groupName, userId, extend, r);
      }
      case "unbind_from_group" -> {
        String clientId = req.string("clientId");
        String groupName = req.string("groupName");
        if (clientId.isEmpty()) return done(ApiResult.required("ClientId"));
        if (groupName.isEmpty()) return done(ApiResult.required("GroupName"));
        command = r -> new SystemActor.Unbind(clientId, groupName, r);
      }
      case "get_online_list" -> {
        String groupName = req.string("groupName");
        if (groupName.isEmpty()) return done(ApiResult.required("GroupName"));
        command = r -> new SystemActor.GetOnlineList(groupName, r);
      }
      case "get_all_groups" -> {
        req.string("clientId"); // accepted, unused; still type-checked
        command = SystemActor.GetAllGroups::new;
      }
      case "close_client" -> {
        String clientId = req.string("clientId");
        if (clientId.isEmpty()) return done(ApiResult.required("ClientId"));
        command = r -> new SystemActor.CloseClient(clientId, r);
      }
      default -> throw new Envelopes.NotFound("unknown operation: " + operation);
    }
    if (systemId.isEmpty()) return done(ApiResult.error(ApiResult.NO_SYSTEM_ID));
    return AskPattern.ask(guardian, r -> new Guardian.ForSystem(systemId, command.apply(r)), askTimeout,
        system.scheduler());
  }

  private CompletionStage<ApiResult> register(ApiRequest req) {
    String systemId = req.string("systemId");
    if (systemId.isEmpty()) return done(ApiResult.required("SystemId"));
    String problem = SystemIds.problem(systemId);
    if (problem != null) return done(ApiResult.error(problem));
    return AskPattern.ask(guardian, r -> new Guardian.Register(systemId, r), askTimeout, system.scheduler());
  }

  private static ApiResult tooLong(String field, int max) {
    return ApiResult.error(field + " too long (max " + max + " characters)");
  }

  private static CompletionStage<ApiResult> done(ApiResult r) {
    return CompletableFuture.completedFuture(r);
  }
}

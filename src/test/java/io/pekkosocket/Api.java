package io.pekkosocket;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkosocket.api.Operation;
import io.pekkosocket.wire.ApiResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * Real HTTP calls to the server's API: raw ({@link #post}) for tests that assert exact bodies, typed
 * ({@link #bind}, {@link #sendToGroup}, …) for the rest, each reply's {@code data} read as the type its
 * {@link Operation} declares.
 */
public final class Api {
  public static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  public record Response(int status, String body) {
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (Exception e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }

    public JsonNode data() {
      return json().get("data");
    }

    public int code() {
      return json().get("code").asInt();
    }
  }

  private final int port;
  private final String token;

  public Api(int port, String token) {
    this.port = port;
    this.token = token;
  }

  /** The same server, calling with another bearer token (null: no Authorization header). */
  public Api withToken(String otherToken) {
    return new Api(port, otherToken);
  }

  /**
   * A typed answer: {@code data} is the operation's declared reply type when {@code code} is 0 and the reply has a
   * shape, else null (errors carry none; {@link ApiResult.Empty} stands for {@code []} and {@code {}}); {@code body} is the exact body.
   */
  public record Reply<T>(int status, int code, String msg, T data, String body) {
    /** Fails unless the call succeeded (HTTP 200, code 0); returns this. */
    public Reply<T> ok() {
      if (status != 200 || code != 0) throw new AssertionError("call failed: " + status + " " + body);
      return this;
    }
  }

  /** Calls {@code operation} with the body {@code fields} (name, value, name, value …; null values left out). */
  public <T> Reply<T> call(Operation operation, Class<T> reply, String systemId, Object... fields) {
    if (reply != operation.reply()) {
      throw new IllegalArgumentException(operation + " replies " + operation.reply().getSimpleName());
    }
    ObjectNode body = JSON.createObjectNode();
    for (int i = 0; i < fields.length; i += 2) {
      if (fields[i + 1] != null) body.set((String) fields[i], JSON.valueToTree(fields[i + 1]));
    }
    Response r = post(operation.wireName(), systemId, body.toString());
    JsonNode json;
    try {
      json = JSON.readTree(r.body());
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + r.status() + " " + r.body(), e);
    }
    int code = json.get("code").asInt();
    T data = null;
    if (code == 0 && reply == ApiResult.Empty.class) {
      data = reply.cast(empty(json.get("data"), r.body()));
    } else if (code == 0) {
      try {
        data = JSON.treeToValue(json.get("data"), reply);
      } catch (Exception e) {
        throw new AssertionError("data is not a " + reply.getSimpleName() + ": " + r.body(), e);
      }
    }
    return new Reply<>(r.status(), code, json.get("msg").asText(), data, r.body());
  }

  public Reply<ApiResult.Empty> bind(String systemId, String clientId, String groupName) {
    return bind(systemId, clientId, groupName, null, null);
  }

  public Reply<ApiResult.Empty> bind(String systemId, String clientId, String groupName, String userId, String extend) {
    return call(Operation.BIND_TO_GROUP, ApiResult.Empty.class, systemId, "clientId", clientId, "groupName", groupName,
        "userId", userId, "extend", extend);
  }

  public Reply<ApiResult.Empty> unbind(String systemId, String clientId, String groupName) {
    return call(Operation.UNBIND_FROM_GROUP, ApiResult.Empty.class, systemId, "clientId", clientId, "groupName", groupName);
  }

  public Reply<ApiResult.ClientDelivery> sendToClient(String systemId, String clientId, String data) {
    return call(Operation.SEND_TO_CLIENT, ApiResult.ClientDelivery.class, systemId, "clientId", clientId,
        "data", data);
  }

  public Reply<ApiResult.ClientsDelivery> sendToClients(String systemId, List<String> clientIds, String data) {
    return call(Operation.SEND_TO_CLIENTS, ApiResult.ClientsDelivery.class, systemId, "clientIds", clientIds,
        "data", data);
  }

  public Reply<ApiResult.FanOutDelivery> sendToGroup(String systemId, String groupName, String data) {
    return call(Operation.SEND_TO_GROUP, ApiResult.FanOutDelivery.class, systemId, "groupName", groupName,
        "data", data);
  }

  public Reply<ApiResult.FanOutDelivery> sendToSystem(String systemId, String data) {
    return call(Operation.SEND_TO_SYSTEM, ApiResult.FanOutDelivery.class, systemId, "data", data);
  }

  public Reply<ApiResult.OnlineList> onlineList(String systemId, String groupName) {
    return call(Operation.GET_ONLINE_LIST, ApiResult.OnlineList.class, systemId, "groupName", groupName);
  }

  public Reply<ApiResult.AllGroups> allGroups(String systemId) {
    return call(Operation.GET_ALL_GROUPS, ApiResult.AllGroups.class, systemId);
  }

  public Reply<ApiResult.Empty> closeClient(String systemId, String clientId) {
    return call(Operation.CLOSE_CLIENT, ApiResult.Empty.class, systemId, "clientId", clientId);
  }

  public Response post(String operation, String systemId, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/" + operation))
        .timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (systemId != null) b.header("SystemId", systemId);
    if (token != null) b.header("Authorization", "Bearer " + token);
    return send(b.build());
  }

  public Response postWithAuthorization(String operation, String systemId, String authorization, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/" + operation))
        .timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (systemId != null) b.header("SystemId", systemId);
    if (authorization != null) b.header("Authorization", authorization);
    return send(b.build());
  }

  public Response send(HttpRequest request) {
    try {
      HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body());
    } catch (Exception e) {
      throw new AssertionError("HTTP call failed: " + request, e);
    }
  }

  public Response get(String path) {
    return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(20)).GET().build());
  }

  public URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  /** JSON string literal of s (Jackson's quoting). */
  public static String q(String s) {
    try {
      return JSON.writeValueAsString(s);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** {@code []} or {@code {}}, as the reply of an operation whose data has no shape. */
  private static ApiResult.Empty empty(JsonNode data, String body) {
    if (data.isArray() && data.isEmpty()) return ApiResult.Empty.LIST;
    if (data.isObject() && data.isEmpty()) return ApiResult.Empty.OBJECT;
    throw new AssertionError("data is neither [] nor {}: " + body);
  }
}

package io.pekkosocket;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Real HTTP calls to the server's API. */
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
}

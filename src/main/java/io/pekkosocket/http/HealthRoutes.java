package io.pekkosocket.http;

import io.pekkosocket.Readiness;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.ops.Metrics;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /health/live} (the process runs), {@code GET /health/ready} (bound, registry loaded, not draining) and,
 * where this listener serves it, {@code GET /metrics} (Prometheus text format), behind a bearer token when
 * {@code socket.metrics.token} is set.
 */
public final class HealthRoutes extends AllDirectives {
  private final Readiness readiness;
  private final Envelopes envelopes;
  private final Metrics metrics;
  private static final ContentType PROMETHEUS =
      ContentTypes.parse("text/plain; version=0.0.4; charset=utf-8");

  private final boolean servesMetrics;
  /** SHA-256 of {@code socket.metrics.token}; null when /metrics needs no token. */
  private final byte[] tokenDigest;

  /** Health and /metrics without a token (tests). */
  public HealthRoutes(Readiness readiness, Envelopes envelopes, Metrics metrics) {
    this(readiness, envelopes, metrics, true, "");
  }

  /**
   * @param servesMetrics whether this listener serves /metrics (else it is a 404 here)
   * @param metricsToken the bearer token /metrics requires; empty = none
   */
  public HealthRoutes(Readiness readiness, Envelopes envelopes, Metrics metrics, boolean servesMetrics,
      String metricsToken) {
    this.readiness = readiness;
    this.envelopes = envelopes;
    this.metrics = metrics;
    this.servesMetrics = servesMetrics;
    this.tokenDigest = metricsToken.isEmpty() ? null : sha256(metricsToken);
  }

  public Route routes() {
    return servesMetrics ? concat(metricsRoute(), health()) : health();
  }

  private Route metricsRoute() {
    return path("metrics", () -> get(() -> optionalHeaderValueByName("Authorization", authorization ->
        authorized(authorization.orElse(null))
            ? complete(HttpResponse.create().withEntity(HttpEntities.create(PROMETHEUS,
                metrics.scrape().getBytes(StandardCharsets.UTF_8))))
            : envelopes.complete(StatusCodes.UNAUTHORIZED, ApiResult.error("unauthorized")))));
  }

  /** No token configured, or {@code Bearer <token>}; compared in constant time (digests of equal length). */
  private boolean authorized(String header) {
    if (tokenDigest == null) return true;
    if (header == null) return false;
    String h = header.trim();
    if (h.length() < 8 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return false;
    return MessageDigest.isEqual(tokenDigest, sha256(h.substring(7).trim()));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private Route health() {
    return pathPrefix("health", () -> concat(
        path("live", () -> get(() -> envelopes.complete(StatusCodes.OK, ApiResult.ok("live")))),
        path("ready", () -> get(() -> readiness.isReady()
            ? envelopes.complete(StatusCodes.OK, ApiResult.ok("ready"))
            : envelopes.complete(StatusCodes.SERVICE_UNAVAILABLE, ApiResult.error(readiness.state()))))));
  }
}

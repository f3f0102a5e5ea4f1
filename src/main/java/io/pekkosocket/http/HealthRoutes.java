package io.pekkosocket.http;

import io.pekkosocket.Readiness;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.ops.Metrics;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /health/live} (the process runs), {@code GET /health/ready} (bound, registry loaded, not draining) and
 * {@code GET /metrics} (Prometheus text format).
 */
public final class HealthRoutes extends AllDirectives {
  private final Readiness readiness;
  private final Envelopes envelopes;
  private final Metrics metrics;
  private static final ContentType PROMETHEUS =
      ContentTypes.parse("text/plain; version=0.0.4; charset=utf-8");

  public HealthRoutes(Readiness readiness, Envelopes envelopes, Metrics metrics) {
    this.readiness = readiness;
    this.envelopes = envelopes;
    this.metrics = metrics;
  }

  public Route routes() {
    return concat(
        path("metrics", () -> get(() -> complete(HttpResponse.create()
            .withEntity(HttpEntities.create(PROMETHEUS, metrics.scrape().getBytes(java.nio.charset.StandardCharsets.UTF_8)))))),
        health());
  }

  private Route health() {
    return pathPrefix("health", () -> concat(
        path("live", () -> get(() -> envelopes.complete(StatusCodes.OK, ApiResult.ok("live")))),
        path("ready", () -> get(() -> readiness.isReady()
            ? envelopes.complete(StatusCodes.OK, ApiResult.ok("ready"))
            : envelopes.complete(StatusCodes.SERVICE_UNAVAILABLE, ApiResult.error(readiness.state()))))));
  }
}

package io.pekkosocket.http;

import io.pekkosocket.Readiness;
import io.pekkosocket.wire.ApiResult;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code GET /health/live} (the process runs) and {@code GET /health/ready} (bound, accepting, not draining). */
public final class HealthRoutes extends AllDirectives {
  private final Readiness readiness;
  private final Envelopes envelopes;

  public HealthRoutes(Readiness readiness, Envelopes envelopes) {
    this.readiness = readiness;
    this.envelopes = envelopes;
  }

  public Route routes() {
    return pathPrefix("health", () -> concat(
        path("live", () -> get(() -> envelopes.complete(StatusCodes.OK, ApiResult.ok("live")))),
        path("ready", () -> get(() -> readiness.isReady()
            ? envelopes.complete(StatusCodes.OK, ApiResult.ok("ready"))
            : envelopes.complete(StatusCodes.SERVICE_UNAVAILABLE, ApiResult.error(readiness.state()))))));
  }
}

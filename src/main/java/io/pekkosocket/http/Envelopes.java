package io.pekkosocket.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pekkosocket.wire.ApiResult;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.javadsl.marshallers.jackson.Jackson;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.MalformedRequestContentRejection;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.http.javadsl.marshalling.Marshaller;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the response envelope, and maps every error that escapes a route to one: no request ever gets a bare
 * Pekko error page or an HTML body. One instance per server, built around the server's one ObjectMapper.
 */
public final class Envelopes extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(Envelopes.class);

  /** No such route or operation: 404 with the message. */
  static final class NotFound extends RuntimeException {
    NotFound(String message) {
      super(message, null, false, false);
    }
  }

  private final ObjectMapper mapper;
  private final Marshaller<ApiResult<?>, RequestEntity> marshaller;
  private final ExceptionHandler exceptionHandler;
  private final RejectionHandler rejectionHandler;

  public Envelopes(ObjectMapper mapper) {
    this.mapper = mapper;
    this.marshaller = Jackson.marshaller(mapper);
    this.exceptionHandler = exceptions();
    this.rejectionHandler = rejections();
  }

  public Route complete(StatusCode status, ApiResult<?> result) {
    return complete(status, result, marshaller);
  }

  /**
   * An API call's answer: 503 for {@link ApiResult#BUSY}, 504 for {@link ApiResult#OUTCOME_UNKNOWN}, 413 for
   * {@link ApiResult#TOO_LARGE}, else 200.
   */
  public Route answer(ApiResult<?> result) {
    return complete(statusOf(result), result);
  }

  static StatusCode statusOf(ApiResult<?> result) {
    if (result.equals(ApiResult.BUSY)) return StatusCodes.SERVICE_UNAVAILABLE;
    if (result.equals(ApiResult.OUTCOME_UNKNOWN)) return StatusCodes.GATEWAY_TIMEOUT;
    if (result.equals(ApiResult.TOO_LARGE)) return StatusCodes.PAYLOAD_TOO_LARGE;
    return StatusCodes.OK;
  }

  /** Wraps the whole route: every exception and rejection becomes an envelope with the right status. */
  public Route handled(Route inner) {
    return handleExceptions(exceptionHandler, () -> handleRejections(rejectionHandler, () -> inner));
  }

  private ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
        .matchAny(e -> {
          Answer a = ofFailure(e);
          return complete(a.status(), a.result());
        })
        .build();
  }

  /** A status and the envelope that goes with it. */
  record Answer(StatusCode status, ApiResult<?> result) {}

  /** What a call that failed with {@code e} is answered: the one mapping of errors to envelopes. */
  static Answer ofFailure(Throwable e) {
    if (e instanceof ApiRequest.BadRequest || e instanceof io.pekkosocket.api.Malformed) {
      return new Answer(StatusCodes.BAD_REQUEST, ApiResult.error(e.getMessage()));
    }
    if (e instanceof NotFound) return new Answer(StatusCodes.NOT_FOUND, ApiResult.error(e.getMessage()));
    if (isTooLarge(e)) return new Answer(StatusCodes.PAYLOAD_TOO_LARGE, ApiResult.error("payload too large"));
    if (e instanceof TimeoutException || e.getCause() instanceof TimeoutException) {
      return new Answer(StatusCodes.SERVICE_UNAVAILABLE, ApiResult.BUSY);
    }
    log.error("request failed: {}", e.toString());
    return new Answer(StatusCodes.INTERNAL_SERVER_ERROR, ApiResult.error("internal error"));
  }

  /**
   * The response {@link #complete(StatusCode, ApiResult)} makes, built without the routing DSL: the envelope's JSON
   * bytes as {@code application/json}, byte for byte what the Jackson marshaller writes.
   */
  HttpResponse response(StatusCode status, ApiResult<?> result) {
    byte[] json;
    try {
      // as the marshaller does: a String, then its UTF-8 bytes (Jackson's byte writer would escape characters
      // outside the BMP as \uD83C\uDF89 pairs where the String carries them whole)
      json = mapper.writeValueAsString(result).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("an envelope that cannot be written: " + e.getMessage(), e);
    }
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, json));
  }

  private static boolean isTooLarge(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof EntityStreamSizeException) return true;
    }
    return false;
  }

  private RejectionHandler rejections() {
    return RejectionHandler.newBuilder()
        .handleNotFound(complete(StatusCodes.NOT_FOUND, ApiResult.error("not found")))
        .handleAll(org.apache.pekko.http.javadsl.server.MethodRejection.class,
            r -> complete(StatusCodes.METHOD_NOT_ALLOWED, ApiResult.error("method not allowed")))
        .handle(MalformedRequestContentRejection.class, r -> isTooLarge(r.getCause())
            ? complete(StatusCodes.PAYLOAD_TOO_LARGE, ApiResult.error("payload too large"))
            : complete(StatusCodes.BAD_REQUEST, ApiResult.error("malformed request body")))
        .handleAll(org.apache.pekko.http.javadsl.server.Rejection.class,
            r -> complete(StatusCodes.BAD_REQUEST, ApiResult.error("bad request: " + r.get(0))))
        .build();
  }
}

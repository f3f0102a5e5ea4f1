package io.pekkosocket.http;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The guard on its own, between a source of requests that stays open (a connection the client keeps) and a sink of
 * responses: the sink completes when the guard ends the connection. The wire behaviour is in e2e/HttpIdleTest.
 */
class IdleGuardTest {
  static final ActorTestKit kit = ActorTestKit.create();
  static final Duration TIMEOUT = Duration.ofMillis(300);

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private static final Flow<HttpRequest, HttpResponse, ?> OK = Flow.of(HttpRequest.class).map(r -> HttpResponse.create());

  /** Runs {@code requests}, then keeps the request side open; the left value ends it, the right one is the answers. */
  private static Pair<CompletableFuture<Optional<HttpRequest>>, CompletableFuture<List<HttpResponse>>> run(
      Source<HttpRequest, ?> requests, Flow<HttpRequest, HttpResponse, ?> handler) {
    Pair<CompletableFuture<Optional<HttpRequest>>, CompletionStage<List<HttpResponse>>> p = requests
        .concatMat(Source.<HttpRequest>maybe(), Keep.right())
        .via(IdleGuard.around(handler, TIMEOUT))
        .toMat(Sink.<HttpResponse>seq(), Keep.both())
        .run(kit.system());
    return Pair.create(p.first(), p.second().toCompletableFuture());
  }

  @Test
  void aConnectionWithoutARequestEndsAfterTheTimeout() throws Exception {
    long start = System.nanoTime();
    List<HttpResponse> answered = run(Source.empty(), OK).second().get(5, TimeUnit.SECONDS);
    assertTrue(answered.isEmpty(), "nothing answered");
    assertTrue(System.nanoTime() - start >= TIMEOUT.toNanos(), "not before the timeout");
  }

  @Test
  void eachResponseStartsTheTimeoutAgain() throws Exception {
    // ten requests 100 ms apart: one second, over three timeouts counted from the start
    Source<HttpRequest, ?> asking = Source.tick(Duration.ZERO, Duration.ofMillis(100), HttpRequest.create("/"))
        .take(10);
    List<HttpResponse> answered = run(asking, OK).second().get(5, TimeUnit.SECONDS);
    assertEquals(10, answered.size(), "every request answered before the connection was ended");
  }

  @Test
  void aRequestBeingAnsweredIsNotCut() throws Exception {
    Flow<HttpRequest, HttpResponse, ?> slow = Flow.of(HttpRequest.class).mapAsync(1, r ->
        CompletableFuture.supplyAsync(HttpResponse::create,
            CompletableFuture.delayedExecutor(1_000, TimeUnit.MILLISECONDS)));
    List<HttpResponse> answered = run(Source.single(HttpRequest.create("/")), slow).second()
        .get(5, TimeUnit.SECONDS);
    assertEquals(1, answered.size(), "the answer, three timeouts late, still went out");
  }

  /** A request never answered (or an answer the client never reads) is cut after STUCK timeouts, not before. */
  @Test
  void aRequestStuckForManyTimeoutsEndsTheConnection() throws Exception {
    Flow<HttpRequest, HttpResponse, ?> never = Flow.of(HttpRequest.class)
        .mapAsync(1, r -> new CompletableFuture<HttpResponse>());
    long start = System.nanoTime();
    List<HttpResponse> answered = run(Source.single(HttpRequest.create("/")), never).second()
        .get(IdleGuard.STUCK * TIMEOUT.toMillis() + 5_000, TimeUnit.MILLISECONDS);
    assertTrue(answered.isEmpty());
    assertTrue(System.nanoTime() - start >= IdleGuard.STUCK * TIMEOUT.toNanos(), "not before the backstop");
  }

  @Test
  void afterA101TheGuardNoLongerTimes() throws Exception {
    Flow<HttpRequest, HttpResponse, ?> upgrade = Flow.of(HttpRequest.class)
        .map(r -> HttpResponse.create().withStatus(StatusCodes.SWITCHING_PROTOCOLS));
    var connection = run(Source.single(HttpRequest.create("/ws")), upgrade);
    assertThrows(TimeoutException.class, () -> connection.second().get(5 * TIMEOUT.toMillis(), TimeUnit.MILLISECONDS),
        "five timeouts after the 101, the guard has not ended the connection");
    connection.first().complete(Optional.empty()); // the HTTP side ends, as Pekko ends it after the switch
    assertEquals(1, connection.second().get(5, TimeUnit.SECONDS).size());
  }

  /** Reads each request's body whole: 200 with the body, or 400 naming why the body failed. */
  private static final Flow<HttpRequest, HttpResponse, ?> READER = Flow.of(HttpRequest.class).mapAsync(1, r ->
      r.entity().getDataBytes().runFold(ByteString.emptyByteString(), ByteString::concat, kit.system())
          .handle((body, failure) -> failure == null
              ? HttpResponse.create().withEntity(body.utf8String())
              : HttpResponse.create().withStatus(400).withEntity(cause(failure).getClass().getSimpleName())));

  private static Throwable cause(Throwable failure) {
    return failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
  }

  private static HttpRequest post(long length, Source<ByteString, ?> body) {
    return HttpRequest.POST("/api/x").withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, length, body));
  }

  @Test
  void aBodyThatStopsArrivingFails() throws Exception {
    // 12 of the 100 bytes announced, then nothing, and the body never ends
    HttpRequest stalled = post(100, Source.single(ByteString.fromString("{\"systemId\":"))
        .concat(Source.<ByteString>maybe()));
    List<HttpResponse> answered = run(Source.single(stalled), READER).second().get(5, TimeUnit.SECONDS);
    assertEquals(1, answered.size());
    assertEquals(400, answered.get(0).status().intValue());
    assertEquals("BodyStalled", ((HttpEntity.Strict) answered.get(0).entity()).getData().utf8String());
  }

  @Test
  void aBodyThatKeepsArrivingIsReadWhole() throws Exception {
    // five chunks 200 ms apart: a second, over three timeouts, but never one timeout without bytes
    HttpRequest trickled = post(5, Source.tick(Duration.ofMillis(200), Duration.ofMillis(200), ByteString.fromString("x"))
        .take(5));
    List<HttpResponse> answered = run(Source.single(trickled), READER).second().get(5, TimeUnit.SECONDS);
    assertEquals(1, answered.size());
    assertEquals(200, answered.get(0).status().intValue());
    assertEquals("xxxxx", ((HttpEntity.Strict) answered.get(0).entity()).getData().utf8String());
  }
}

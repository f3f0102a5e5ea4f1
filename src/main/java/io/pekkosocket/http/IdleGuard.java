package io.pekkosocket.http;

import java.time.Duration;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Times the HTTP phase of one connection ({@code socket.http.idle-timeout}), in place of Pekko HTTP's own
 * idle-timeout, which the server turns off. It sits between Pekko's HTTP layer and the route, so it sees each request
 * once its headers are complete and each response as the route gives it:
 * <ul>
 *   <li>a connection on which no complete request arrives within the timeout, counted from the accept or from the
 *   last response, is closed: a silent socket, a request whose headers never complete, an idle keep-alive;
 *   <li>a request being answered is not cut by it (Pekko's request-timeout bounds the route's answer, but only
 *   from the end of the request's body), so its body is watched: when the route has waited the timeout for the
 *   next bytes of it, the body fails and the connection is closed (the API's 400 "malformed request body" is
 *   usually written first). A body that keeps trickling is not cut (nor was it by Pekko's timer);
 *   <li>once a 101 has gone out the connection is a WebSocket, timed by its own heartbeat
 *   ({@code socket.ws.idle-timeout}): the timer is cancelled, and the stage ends with the HTTP side of the connection.
 * </ul>
 *
 * <p>One timer per connection, rescheduled lazily from the last response: it wakes about once per timeout, where
 * Pekko's idle stage wakes every timeout / 8 for the whole life of every connection (docs/BENCHMARKS.md, "What the
 * HTTP idle timer costs").
 *
 * <p>How it closes: it completes the stage, so the route sees the end of its requests and Pekko sees the end of the
 * responses with none outstanding. Pekko's HTTP layer then ends the connection whatever the parser holds (bytes of a
 * request whose headers are incomplete are not a request yet): its controller completes the response side, the
 * rendering side completes, and the TCP stage, bound without half-close, closes the socket (a FIN, not a reset;
 * checked with raw sockets). Failing the stage instead would be wrong: Pekko answers a failed handler with a 500.
 * When the parser held part of a request, Pekko logs its usual warning for a request cut short ("Illegal HTTP
 * message start"), as it does when a client hangs up mid-headers; nothing is sent.
 *
 * <p>What it does not see: bytes. A client that sends requests but stops reading their responses holds a request
 * outstanding (its answer waits for the client to read the one before): after {@link #STUCK} idle timeouts with
 * nothing moving, the connection is closed anyway (10 minutes with the default 75 s).
 */
public final class IdleGuard extends GraphStage<BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse>> {
  private static final String TIMER = "idle";
  /**
   * Idle timeouts a request may stay outstanding with nothing moving before the connection is closed anyway: far
   * beyond any answer the server gives (the API's ask-timeout and grace, Pekko's request-timeout), so only a client
   * that stops reading its answers, or a body stalled below the body watch, meets it.
   */
  static final int STUCK = 8;

  private final Inlet<HttpRequest> requestIn = Inlet.create("IdleGuard.requestIn");
  private final Outlet<HttpRequest> requestOut = Outlet.create("IdleGuard.requestOut");
  private final Inlet<HttpResponse> responseIn = Inlet.create("IdleGuard.responseIn");
  private final Outlet<HttpResponse> responseOut = Outlet.create("IdleGuard.responseOut");
  private final BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse> shape =
      BidiShape.of(requestIn, requestOut, responseIn, responseOut);

  private final Duration timeout;

  private IdleGuard(Duration timeout) {
    this.timeout = timeout;
  }

  /** The connection handler to bind: {@code handler} (requests to responses) behind a guard of {@code timeout}. */
  public static Flow<HttpRequest, HttpResponse, NotUsed> around(Flow<HttpRequest, HttpResponse, ?> handler,
      Duration timeout) {
    return BidiFlow.fromGraph(new IdleGuard(timeout)).join(handler);
  }

  @Override
  public BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attrs) {
    return new Logic();
  }

  private final class Logic extends TimerGraphStageLogic {
    private final long timeoutNanos = timeout.toNanos();
    /** Requests given to the route and not answered yet: while there is one, the connection is not idle. */
    private int answering;
    /** When the connection last had nothing to answer: its accept, or its last response. */
    private long idleSince = System.nanoTime();
    /** A 101 has gone out: the connection is a WebSocket, no longer this guard's. */
    private boolean upgraded;
    /** When a request last arrived or a response last went out: what a stuck request is timed from. */
    private long movedAt = System.nanoTime();
    /** The pending timer is the stuck-request backstop, not the idle timer. */
    private boolean backstop;

    Logic() {
      super(shape);
      setHandler(requestIn, new AbstractInHandler() {
        @Override
        public void onPush() {
          answering++;
          movedAt = System.nanoTime();
          push(requestOut, watched(grab(requestIn)));
        }

        @Override
        public void onUpstreamFinish() {
          complete(requestOut); // the responses still due go out
        }
      });
      setHandler(requestOut, new AbstractOutHandler() {
        @Override
        public void onPull() {
          pull(requestIn);
        }

        @Override
        public void onDownstreamFinish(Throwable cause) {
          cancel(requestIn, cause);
        }
      });
      setHandler(responseIn, new AbstractInHandler() {
        @Override
        public void onPush() {
          HttpResponse response = grab(responseIn);
          answered(response);
          push(responseOut, response);
        }

        @Override
        public void onUpstreamFinish() {
          complete(responseOut);
        }
      });
      setHandler(responseOut, new AbstractOutHandler() {
        @Override
        public void onPull() {
          pull(responseIn);
        }

        @Override
        public void onDownstreamFinish(Throwable cause) {
          cancel(responseIn, cause);
        }
      });
    }

    @Override
    public void preStart() {
      scheduleOnce(TIMER, timeout);
    }

    /**
     * The request, its body watched if it is still arriving (a strict one has arrived whole with the headers). The
     * entity keeps its kind and length, so the route reads it exactly as it would the original.
     */
    private HttpRequest watched(HttpRequest request) {
      RequestEntity entity = request.entity();
      if (entity.isStrict()) return request;
      Source<ByteString, ?> data = entity.getDataBytes().via(new BodyWatch(timeout));
      if (entity instanceof HttpEntity.Default d) {
        return request.withEntity(HttpEntities.create(d.getContentType(), d.getContentLength(), data));
      }
      // chunked: the same bytes, as chunks of data (the routes read bytes, never chunk extensions or trailers)
      return request.withEntity(HttpEntities.create(entity.getContentType(), data));
    }

    private void answered(HttpResponse response) {
      answering--;
      if (response.status().equals(StatusCodes.SWITCHING_PROTOCOLS)) {
        upgraded = true;
        cancelTimer(TIMER);
      } else if (!upgraded) {
        idleSince = System.nanoTime();
        movedAt = idleSince;
        // a pending idle timer will find the new idleSince and move itself; a pending backstop is replaced
        if (backstop || !isTimerActive(TIMER)) {
          backstop = false;
          scheduleOnce(TIMER, timeout);
        }
      }
    }

    @Override
    public void onTimer(Object key) {
      if (upgraded) return;
      long now = System.nanoTime();
      if (answering > 0) {
        // a request being answered is not idle; but nothing moving for STUCK idle timeouts (no answer given, or one
        // the client never reads, so Pekko never takes it) is a client that holds the connection: close it
        long stuck = now - movedAt;
        if (stuck >= STUCK * timeoutNanos) {
          completeStage();
        } else {
          backstop = true;
          scheduleOnce(TIMER, Duration.ofNanos(STUCK * timeoutNanos - stuck));
        }
        return;
      }
      long idle = now - idleSince;
      if (idle >= timeoutNanos) {
        completeStage();
      } else {
        scheduleOnce(TIMER, Duration.ofNanos(timeoutNanos - idle));
      }
    }
  }

  /** A request body that stopped arriving: no bytes for the idle timeout while the route waited for them. */
  static final class BodyStalled extends RuntimeException {
    BodyStalled(Duration timeout) {
      super("no bytes of the request body for " + timeout.toMillis() + " ms", null, false, false);
    }
  }

  /**
   * Watches one request body as the route reads it: fails it when the route has been waiting for its next bytes for
   * the timeout. One timer, rescheduled lazily; none before the route reads the body, none after its end.
   */
  private static final class BodyWatch extends GraphStage<FlowShape<ByteString, ByteString>> {
    private final Inlet<ByteString> in = Inlet.create("IdleGuard.BodyWatch.in");
    private final Outlet<ByteString> out = Outlet.create("IdleGuard.BodyWatch.out");
    private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
    private final Duration timeout;

    BodyWatch(Duration timeout) {
      this.timeout = timeout;
    }

    @Override
    public FlowShape<ByteString, ByteString> shape() {
      return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes attrs) {
      return new TimerGraphStageLogic(shape) {
        private final long timeoutNanos = timeout.toNanos();
        /** The route's wait for bytes starts at its pull; bytes end it. */
        private long since = System.nanoTime();

        {
          setHandler(in, new AbstractInHandler() {
            @Override
            public void onPush() {
              since = System.nanoTime();
              push(out, grab(in));
            }
          });
          setHandler(out, new AbstractOutHandler() {
            @Override
            public void onPull() {
              since = System.nanoTime();
              pull(in);
            }
          });
        }

        @Override
        public void preStart() {
          scheduleOnce(TIMER, timeout);
        }

        @Override
        public void onTimer(Object key) {
          long idle = System.nanoTime() - since;
          if (!hasBeenPulled(in)) {
            scheduleOnce(TIMER, timeout); // the route is not asking for bytes: not the client's silence
          } else if (idle >= timeoutNanos) {
            failStage(new BodyStalled(timeout));
          } else {
            scheduleOnce(TIMER, Duration.ofNanos(timeoutNanos - idle));
          }
        }
      };
    }
  }
}

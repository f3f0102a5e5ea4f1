package pekkosocket.load;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * connect-storm (and soak): ramp to {@code clients} connections at {@code rate} per second, hold them for
 * {@code hold} seconds while the server pings them and a light sender pushes one send_to_system every
 * {@code every} seconds; then every client checks its connection is still open and that it got every push.
 * Failures to connect and drops (a connection closed during the hold, or a push missing) count as KO.
 * {@code -Dbrowser=true}: every handshake carries the headers Chrome sends on a WebSocket upgrade
 * ({@link Load#handshakeHeaders()}), to compare the server's heap per connection with and without them.
 */
public class ConnectStorm extends Simulation {
  static final int CLIENTS = Load.intProp("clients", 1000);
  static final int RATE = Load.intProp("rate", 500);
  static final int HOLD = Load.intProp("hold", 60);
  static final int EVERY = Load.intProp("every", 10);
  static final int RAMP = Math.max(1, CLIENTS / RATE);
  static final AtomicLong PUSHES = new AtomicLong();
  static final AtomicLong RECEIVED = new AtomicLong();

  @Override
  public void before() {
    Load.registerSystem();
  }

  @Override
  public void after() {
    System.out.println("connect-storm: clients " + CLIENTS + (Load.browser() ? " (browser handshakes)" : "")
        + ", pushes sent " + PUSHES.get() + ", push frames received " + RECEIVED.get() + " (expected up to "
        + PUSHES.get() * CLIENTS + ")");
  }

  static ChainBuilder consume() {
    return exec(ws.processUnmatchedMessages((messages, session) -> {
      long got = session.getLong("got");
      for (var m : messages) {
        if (Load.text(m).contains("\"code\":300,")) got++;
      }
      RECEIVED.addAndGet(got - session.getLong("got"));
      return session.set("got", got);
    }));
  }

  ScenarioBuilder clients = scenario("clients")
      .exec(s -> s.set("got", 0L))
      .exec(ws("connect").connect("/ws?systemId=" + Load.system()).headers(Load.handshakeHeaders())
          .await(Duration.ofSeconds(60)).on(ws.checkTextMessage("welcome").check(jsonPath("$.code").is("0"))))
      .exec(s -> s.set("pushesAtJoin", PUSHES.get()))
      .during(Duration.ofSeconds(HOLD + RAMP - 0L)).on(pause(Duration.ofSeconds(30)).exec(consume()))
      .exec(consume())
      // still open? (a send on a closed socket fails) and every push since joining arrived?
      .exec(ws("still open").sendText("{}"))
      .exec(http("no push lost").get("/health/live").check(status().is(s ->
          s.getLong("got") >= PUSHES.get() - s.getLong("pushesAtJoin") - 1 ? 200 : 599)))
      .exec(ws("close").close());

  ScenarioBuilder pusher = scenario("light traffic")
      .during(Duration.ofSeconds(HOLD)).on(
          pace(Duration.ofSeconds(EVERY))
              .exec(http("send_to_system").post("/api/send_to_system")
                  .header("Authorization", Load.bearer()).header("SystemId", Load.system())
                  .body(StringBody(s -> "{\"code\":300,\"data\":" + Load.payload(PUSHES.getAndIncrement()) + "}"))));

  {
    setUp(
        clients.injectOpen(rampUsers(CLIENTS).during(RAMP)),
        pusher.injectOpen(nothingFor(Duration.ofSeconds(RAMP + 2)), atOnceUsers(1)))
        .protocols(Load.protocol())
        .maxDuration(Duration.ofSeconds(RAMP + HOLD + 120))
        .assertions(
            details("connect").failedRequests().percent().lte(0.1),
            details("still open").failedRequests().count().is(0L),
            details("no push lost").failedRequests().count().is(0L),
            details("connect").responseTime().percentile(99.0).lt(1000));
  }
}

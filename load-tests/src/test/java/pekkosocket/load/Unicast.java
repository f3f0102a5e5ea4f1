package pekkosocket.load;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * unicast: {@code clients} connections; {@code senders} backend workers call send_to_client at {@code rate}
 * requests per second in all for {@code duration} seconds, each to a random client. Request latency is Gatling's; delivery latency (payload timestamp to receipt)
 * goes to target/latency-unicast.txt, and every client checks that it received what was delivered to it.
 */
public class Unicast extends Simulation {
  static final int CLIENTS = Load.intProp("clients", 1000);
  static final int RATE = Load.intProp("rate", 2000);
  static final int DURATION = Load.intProp("duration", 60);
  static final int RAMP = Math.max(2, CLIENTS / 300);
  static final List<String> IDS = new CopyOnWriteArrayList<>();
  static final AtomicLong DELIVERED = new AtomicLong();
  static final AtomicLong RECEIVED = new AtomicLong();
  static final AtomicLong DONE = new AtomicLong();
  static final Load.Latency LATENCY = new Load.Latency();

  @Override
  public void before() {
    Load.registerSystem();
  }

  @Override
  public void after() {
    LATENCY.write("unicast");
    System.out.println("unicast: delivered (server said) " + DELIVERED.get() + ", received " + RECEIVED.get());
  }

  static ChainBuilder consume() {
    return exec(ws.processUnmatchedMessages((messages, session) -> {
      for (var m : messages) {
        String f = Load.text(m);
        if (!f.contains("\"code\":200,")) continue;
        RECEIVED.incrementAndGet();
        LATENCY.record(m.timestamp() - Load.number(f, "ts"));
      }
      return session;
    }));
  }

  ScenarioBuilder receivers = scenario("receivers")
      .exec(ws("connect").connect("/ws?systemId=" + Load.system())
          .await(Duration.ofSeconds(30)).on(ws.checkTextMessage("welcome")
              .check(jsonPath("$.data.clientId").saveAs("clientId"))))
      .exec(s -> {
        IDS.add(s.getString("clientId"));
        return s;
      })
      .asLongAs(s -> DONE.get() == 0).on(pause(Duration.ofMillis(500)).exec(consume()))
      .pause(Duration.ofSeconds(3))
      .exec(consume())
      .exec(ws("close").close());

  /** A fixed pool of senders, each paced, so that HTTP connections are kept alive and reused as a backend would. */
  static final int SENDERS = Load.intProp("senders", 32);

  ScenarioBuilder senders = scenario("senders")
      .during(Duration.ofSeconds(DURATION)).on(
          pace(Duration.ofNanos(1_000_000_000L * SENDERS / RATE))
              .exec(http("send_to_client").post("/api/send_to_client")
                  .header("Authorization", Load.bearer()).header("SystemId", Load.system())
                  .body(StringBody(s -> "{\"clientId\":\"" + IDS.get(ThreadLocalRandom.current().nextInt(IDS.size()))
                      + "\",\"code\":200,\"data\":" + Load.payload(0) + "}"))
                  .check(jsonPath("$.data.delivered").ofBoolean().is(true)))
              .exec(s -> {
                DELIVERED.incrementAndGet();
                return s;
              }));

  ScenarioBuilder done = scenario("done").exec(s -> {
    DONE.set(1);
    return s;
  });

  {
    setUp(
        receivers.injectOpen(rampUsers(CLIENTS).during(RAMP)),
        senders.injectOpen(nothingFor(Duration.ofSeconds(RAMP + 3)), atOnceUsers(SENDERS)),
        done.injectOpen(nothingFor(Duration.ofSeconds(RAMP + 3 + DURATION + 2)), atOnceUsers(1)))
        .protocols(Load.protocol())
        .maxDuration(Duration.ofSeconds(RAMP + DURATION + 60))
        .assertions(
            details("send_to_client").successfulRequests().percent().gte(99.9),
            details("send_to_client").responseTime().percentile(99.0).lt(100));
  }
}

package pekkosocket.load;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * unicast: {@code clients} connections; {@code senders} backend workers call send_to_client at {@code rate}
 * requests per second in all for {@code duration} seconds, each to a random client. Request latency is Gatling's;
 * delivery latency (payload timestamp to receipt) goes to target/latency-unicast.txt, and every client checks that
 * it received each push delivered to it exactly once ({@link Receivers}). {@link UnicastBatch} sends the same
 * pushes in batches.
 */
public class Unicast extends Simulation {
  static final int CLIENTS = Load.intProp("clients", 1000);
  static final int RATE = Load.intProp("rate", 2000);
  static final int DURATION = Load.intProp("duration", 60);
  static final int RAMP = Math.max(2, CLIENTS / 300);
  static final Receivers RECEIVERS = new Receivers();

  @Override
  public void before() {
    Load.registerSystem();
  }

  @Override
  public void after() {
    RECEIVERS.latency.write("unicast");
    System.out.println("unicast: delivered (server said) " + RECEIVERS.delivered() + ", received "
        + RECEIVERS.received() + " (pushes sent " + RECEIVERS.sent() + ")");
  }

  /** A fixed pool of senders, each paced, so that HTTP connections are kept alive and reused as a backend would. */
  static final int SENDERS = Load.intProp("senders", 32);

  // the loop ends after its last answer (exitASAP off): one cut short would leave a push that went out uncounted
  ScenarioBuilder senders = scenario("senders").exec(RECEIVERS.sending(
      during(Duration.ofSeconds(DURATION), false).on(
          pace(Duration.ofNanos(1_000_000_000L * SENDERS / RATE))
              .exec(s -> s.remove("delivered").set("to", RECEIVERS.random()).set("seq", RECEIVERS.nextSeq()))
              .exec(http("send_to_client").post("/api/send_to_client")
                  .header("Authorization", Load.bearer()).header("SystemId", Load.system())
                  .body(StringBody(s -> "{\"clientId\":\"" + s.getString("to")
                      + "\",\"code\":200,\"data\":" + Load.payload(s.getLong("seq")) + "}"))
                  .check(jsonPath("$.data.delivered").ofBoolean().saveAs("delivered"))
                  .check(jsonPath("$.data.delivered").ofBoolean().is(true)))
              .exec(s -> {
                if (s.contains("delivered") && s.getBoolean("delivered")) {
                  RECEIVERS.deliveredTo(s.getString("to"), s.getLong("seq"));
                }
                return s;
              }))));

  {
    setUp(
        RECEIVERS.receivers().injectOpen(rampUsers(CLIENTS).during(RAMP)),
        senders.injectOpen(nothingFor(Duration.ofSeconds(RAMP + 3)), atOnceUsers(SENDERS)),
        RECEIVERS.done().injectOpen(nothingFor(Duration.ofSeconds(RAMP + 3 + DURATION + 2)), atOnceUsers(1)))
        .protocols(Load.protocol())
        .maxDuration(Duration.ofSeconds(RAMP + DURATION + 60))
        .assertions(
            details("send_to_client").successfulRequests().percent().gte(99.9),
            details("every push once").failedRequests().count().is(0L),
            details("send_to_client").responseTime().percentile(99.0).lt(100));
  }
}

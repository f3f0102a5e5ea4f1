package pekkosocket.load;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * unicast in batches: {@link Unicast}'s pushes sent through {@code POST /api/batch}. {@code clients} connections;
 * {@code senders} backend workers each call batch with {@code batch} send_to_client commands to as many distinct
 * random clients, at {@code rate} pushes per second in all (rate / batch calls per second) for {@code duration}
 * seconds. Every command's result must be success with delivered true, or the call is KO. Every client checks that
 * it received each push delivered to it exactly once ({@link Receivers}); delivery latency (payload timestamp, taken
 * when the batch is built, to receipt) goes to target/latency-batch.txt. The server counts a batch as one API
 * request: the run ends by printing the pushes sent, for CPU per push.
 */
public class UnicastBatch extends Simulation {
  static final int CLIENTS = Load.intProp("clients", 1000);
  static final int BATCH = Load.intProp("batch", 100);
  static final int RATE = Load.intProp("rate", 2000);
  static final int DURATION = Load.intProp("duration", 60);
  /** Few senders: a batch holds one of the system's in-flight permits per command (1000 by default) while it runs. */
  static final int SENDERS = Load.intProp("senders", 4);
  static final int RAMP = Math.max(2, CLIENTS / 300);
  static final Receivers RECEIVERS = new Receivers();
  static final AtomicLong CALLS = new AtomicLong();

  @Override
  public void before() {
    Load.registerSystem();
  }

  @Override
  public void after() {
    RECEIVERS.latency.write("batch");
    System.out.println("batch: " + CALLS.get() + " batch calls of " + BATCH + ", pushes sent " + RECEIVERS.sent()
        + ", delivered (server said) " + RECEIVERS.delivered() + ", received " + RECEIVERS.received());
  }

  /** The batch body: one send_to_client per clientId, each with its own seq. */
  static String body(List<String> to) {
    StringBuilder b = new StringBuilder(32 + 200 * to.size()).append("{\"commands\":[");
    for (int i = 0; i < to.size(); i++) {
      if (i > 0) b.append(',');
      b.append("{\"op\":\"send_to_client\",\"clientId\":\"").append(to.get(i)).append("\",\"code\":200,\"data\":")
          .append(RECEIVERS.nextPayload()).append('}');
    }
    CALLS.incrementAndGet();
    return b.append("]}").toString();
  }

  static boolean delivered(Map<String, Object> result) {
    return result.get("code") instanceof Number code && code.longValue() == 0
        && result.get("data") instanceof Map<?, ?> data && Boolean.TRUE.equals(data.get("delivered"));
  }

  /** "ok" when there is one result per command and each is success with delivered true, else the first that is not. */
  static String verdict(List<Map<String, Object>> results, Session s) {
    List<String> to = s.getList("to");
    if (results.size() != to.size()) return results.size() + " results for " + to.size() + " commands";
    for (int i = 0; i < results.size(); i++) {
      if (!delivered(results.get(i))) return "command " + i + ": " + results.get(i);
    }
    return "ok";
  }

  // the loop ends after its last answer (exitASAP off): one cut short would leave a push that went out uncounted
  ScenarioBuilder senders = scenario("senders").exec(RECEIVERS.sending(
      during(Duration.ofSeconds(DURATION), false).on(
          pace(Duration.ofNanos(Math.max(1, 1_000_000_000L * SENDERS * BATCH / RATE)))
              .exec(s -> s.remove("results").set("to", RECEIVERS.distinct(BATCH)))
              .exec(http("batch").post("/api/batch")
                  .header("Authorization", Load.bearer()).header("SystemId", Load.system())
                  .body(StringBody(s -> body(s.getList("to"))))
                  .check(status().is(200))
                  .check(jsonPath("$.data.results[*]").ofMap().findAll().saveAs("results"))
                  .check(jsonPath("$.data.results[*]").ofMap().findAll()
                      .transformWithSession(UnicastBatch::verdict).is("ok")))
              .exec(s -> {
                if (!s.contains("results")) return s;
                List<String> to = s.getList("to");
                List<Map<String, Object>> results = s.getList("results");
                for (int i = 0; i < Math.min(to.size(), results.size()); i++) {
                  if (delivered(results.get(i))) RECEIVERS.deliveredTo(to.get(i));
                }
                return s;
              }))));

  {
    if (BATCH < 1 || BATCH > CLIENTS) {
      throw new IllegalArgumentException("-Dbatch=" + BATCH + ": between 1 and -Dclients (" + CLIENTS
          + ") distinct clients, and at most the server's socket.api.max-batch (100 by default)");
    }
    setUp(
        RECEIVERS.receivers().injectOpen(rampUsers(CLIENTS).during(RAMP)),
        senders.injectOpen(nothingFor(Duration.ofSeconds(RAMP + 3)), atOnceUsers(SENDERS)),
        RECEIVERS.done().injectOpen(nothingFor(Duration.ofSeconds(RAMP + 3 + DURATION + 2)), atOnceUsers(1)))
        .protocols(Load.protocol())
        .maxDuration(Duration.ofSeconds(RAMP + DURATION + 60))
        .assertions(
            details("batch").failedRequests().count().is(0L),
            details("every push once").failedRequests().count().is(0L));
  }
}

package pekkosocket.load;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * group fan-out: {@code clients} members in one group; one sender calls send_to_group {@code rate} times a second
 * for {@code duration} seconds with a sequence number and a timestamp in data. Every member checks that it got
 * every message once and in order; end-to-end latency percentiles go to target/latency-fanout.txt.
 */
public class GroupFanOut extends Simulation {
  static final int CLIENTS = Load.intProp("clients", 1000);
  static final int RATE = Load.intProp("rate", 100);
  static final int DURATION = Load.intProp("duration", 60);
  static final int RAMP = Load.intProp("ramp", Math.max(5, CLIENTS / 200));
  static final String GROUP = "fanout-" + System.currentTimeMillis();
  static final AtomicLong SENT = new AtomicLong();
  static final AtomicLong SENDER_DONE = new AtomicLong();
  static final AtomicLong BOUND = new AtomicLong();
  static final Load.Latency LATENCY = new Load.Latency();

  @Override
  public void before() {
    Load.registerSystem();
  }

  @Override
  public void after() {
    LATENCY.write("fanout");
    System.out.println("fan-out: messages sent " + SENT.get() + " to " + CLIENTS + " members, frames expected "
        + SENT.get() * CLIENTS + ", frames received " + LATENCY.total());
  }

  /** Reads what arrived: pushes must carry seq = next expected; records latency. */
  static ChainBuilder consume() {
    return exec(ws.processUnmatchedMessages((messages, session) -> {
      long next = session.getLong("next");
      boolean ok = session.getBoolean("ok");
      for (var m : messages) {
        String f = Load.text(m);
        if (!f.contains("\"code\":100,")) continue; // 1001/1002 notices
        long seq = Load.number(f, "seq");
        if (seq != next) ok = false;
        next = seq + 1;
        LATENCY.record(Load.number(f, "ts"), m.timestamp());
      }
      return session.set("next", next).set("ok", ok);
    }));
  }

  ScenarioBuilder members = scenario("members")
      .exec(session -> session.set("next", 0L).set("ok", true))
      .exec(ws("connect").connect("/ws?systemId=" + Load.system())
          .await(Duration.ofSeconds(30)).on(ws.checkTextMessage("welcome")
              .check(jsonPath("$.data.clientId").saveAs("clientId"))))
      .exec(http("bind_to_group").post("/api/bind_to_group")
          .header("Authorization", Load.bearer()).header("SystemId", Load.system())
          .body(StringBody(s -> "{\"clientId\":\"" + s.getString("clientId") + "\",\"groupName\":\"" + GROUP + "\"}"))
          .check(jsonPath("$.code").is("0")))
      .exec(s -> {
        BOUND.incrementAndGet();
        return s;
      })
      // wait for the sender to start and finish, consuming as we go
      .asLongAs(s -> SENDER_DONE.get() == 0).on(pause(Duration.ofSeconds(1)).exec(consume()))
      .pause(Duration.ofSeconds(3)) // the last frames in flight
      .exec(consume())
      .exec(http("every message once, in order").get("/health/live")
          .check(status().is(s -> s.getBoolean("ok") && s.getLong("next") == SENT.get() ? 200 : 599)))
      .exec(ws("close").close());

  ScenarioBuilder sender = scenario("sender")
      // starts once every member is in the group (and has seen the joins settle)
      .asLongAs(s -> BOUND.get() < CLIENTS).on(pause(Duration.ofMillis(200)))
      .pause(Duration.ofSeconds(2))
      .during(Duration.ofSeconds(DURATION)).on(
          pace(Duration.ofNanos(1_000_000_000L / RATE))
              // through each node in turn when there are several (-Durls)
              .exec(http("send_to_group").post(s -> Load.apiUrl(SENT.get()) + "/api/send_to_group")
                  .header("Authorization", Load.bearer()).header("SystemId", Load.system())
                  // counted when the body is built, right before it is sent: a loop cut short by the duration
                  // still counts the message that went out
                  .body(StringBody(s -> "{\"groupName\":\"" + GROUP + "\",\"code\":100,\"data\":"
                      + Load.payload(SENT.getAndIncrement()) + "}"))
                  .check(jsonPath("$.data.delivered").ofInt().is(CLIENTS))))
      .exec(s -> {
        SENDER_DONE.set(1);
        return s;
      });

  {
    setUp(
        members.injectOpen(rampUsers(CLIENTS).during(RAMP)),
        sender.injectOpen(atOnceUsers(1)))
        .protocols(Load.protocol())
        .maxDuration(Duration.ofSeconds(RAMP + DURATION + 60))
        .assertions(
            global().successfulRequests().percent().gte(99.9),
            details("every message once, in order").failedRequests().count().is(0L),
            details("send_to_group").responseTime().percentile(99.0).lt(200));
  }
}

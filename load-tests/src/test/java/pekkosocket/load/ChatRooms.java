package pekkosocket.load;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * chat rooms: {@code users} users in {@code users / 20} rooms of about 20. Each user joins a room, then for
 * {@code duration} seconds every {@code think} seconds either chats to its room (70%), moves to another room (15%),
 * lists its room (10%) or leaves and comes back on a new connection (5%), as in a chat or game lobby.
 */
public class ChatRooms extends Simulation {
  static final int USERS = Load.intProp("users", 2000);
  static final int ROOMS = Math.max(1, USERS / 20);
  static final int DURATION = Load.intProp("duration", 60);
  static final int THINK = Load.intProp("think", 2);
  static final int RAMP = Math.max(2, USERS / 200);

  @Override
  public void before() {
    Load.registerSystem();
  }

  static String room() {
    return "room-" + ThreadLocalRandom.current().nextInt(ROOMS);
  }

  static ChainBuilder join() {
    return exec(ws("connect").connect("/ws?systemId=" + Load.system())
            .await(Duration.ofSeconds(30)).on(ws.checkTextMessage("welcome")
                .check(jsonPath("$.data.clientId").saveAs("clientId"))))
        .exec(s -> s.set("room", room()))
        .exec(bind());
  }

  static ChainBuilder bind() {
    return exec(http("bind_to_group").post("/api/bind_to_group")
        .header("Authorization", Load.bearer()).header("SystemId", Load.system())
        .body(StringBody(s -> "{\"clientId\":\"" + s.getString("clientId") + "\",\"groupName\":\"" + s.getString("room")
            + "\",\"userId\":\"u" + s.userId() + "\"}"))
        .check(jsonPath("$.code").is("0")));
  }

  static ChainBuilder drainInbox() {
    return exec(ws.processUnmatchedMessages((messages, session) -> session));
  }

  ScenarioBuilder users = scenario("users")
      .exec(join())
      .during(Duration.ofSeconds(DURATION)).on(
          pause(Duration.ofSeconds(THINK))
              .exec(drainInbox())
              .randomSwitch().on(
                  percent(70.0).then(exec(http("send_to_group").post("/api/send_to_group")
                      .header("Authorization", Load.bearer()).header("SystemId", Load.system())
                      .body(StringBody(s -> "{\"groupName\":\"" + s.getString("room") + "\",\"code\":200,"
                          + "\"sendUserId\":\"u" + s.userId() + "\",\"data\":" + Load.payload(0) + "}"))
                      .check(jsonPath("$.code").is("0")))),
                  percent(15.0).then(exec(http("unbind_from_group").post("/api/unbind_from_group")
                      .header("Authorization", Load.bearer()).header("SystemId", Load.system())
                      .body(StringBody(s -> "{\"clientId\":\"" + s.getString("clientId") + "\",\"groupName\":\""
                          + s.getString("room") + "\"}"))
                      .check(jsonPath("$.code").is("0")))
                      .exec(s -> s.set("room", room()))
                      .exec(bind())),
                  percent(10.0).then(exec(http("get_online_list").post("/api/get_online_list")
                      .header("Authorization", Load.bearer()).header("SystemId", Load.system())
                      .body(StringBody(s -> "{\"groupName\":\"" + s.getString("room") + "\"}"))
                      .check(jsonPath("$.code").is("0")))),
                  percent(5.0).then(exec(ws("leave").close()).exec(join()))))
      .exec(drainInbox())
      .exec(ws("close").close());

  {
    setUp(users.injectOpen(rampUsers(USERS).during(RAMP)))
        .protocols(Load.protocol())
        .maxDuration(Duration.ofSeconds(RAMP + DURATION + 60))
        .assertions(
            global().successfulRequests().percent().gte(99.9),
            global().responseTime().percentile(99.0).lt(250));
  }
}

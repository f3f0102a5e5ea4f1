package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.Api;
import io.pekkosocket.Guardian;
import io.pekkosocket.TestServer;
import io.pekkosocket.WsClient;
import io.pekkosocket.actors.SystemActor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** 10,000 clients connect and disconnect; afterwards the hierarchy holds no client, group or stale entry. */
class LeakTest {
  static TestServer server;
  static final int CLIENTS = 10_000;
  static final int BATCH = 250;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static SystemActor.Stats stats(String systemId) throws Exception {
    var sys = server.server.system();
    return AskPattern.<Guardian.Command, SystemActor.Stats>ask(sys,
        r -> new Guardian.ToSystem(systemId, new SystemActor.GetStats(r)), Duration.ofSeconds(10), sys.scheduler())
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void tenThousandConnectsAndDisconnectsLeaveNothingBehind() throws Exception {
    String s = server.newSystem();
    int done = 0;
    while (done < CLIENTS) {
      List<CompletableFuture<WsClient>> batch = new ArrayList<>();
      for (int i = 0; i < BATCH; i++) batch.add(WsClient.openAsync(server.wsUrl(s), Map.of()));
      List<WsClient> clients = new ArrayList<>();
      for (CompletableFuture<WsClient> f : batch) {
        WsClient c = f.get(30, TimeUnit.SECONDS);
        c.awaitWelcome();
        clients.add(c);
      }
      // a third join a group (some share one), so group actors come and go too
      for (int i = 0; i < clients.size(); i += 3) {
        server.api.post("bind_to_group", s, "{\"clientId\":" + Api.q(clients.get(i).clientId)
            + ",\"groupName\":\"room-" + (i % 7) + "\"}");
      }
      for (int i = 0; i < clients.size(); i++) {
        WsClient c = clients.get(i);
        if (i % 2 == 0) c.closeWith(1000);
        else c.abort();
      }
      for (int i = 0; i < clients.size(); i += 2) clients.get(i).awaitClose();
      done += clients.size();
    }
    // await the condition: everything gone
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    SystemActor.Stats st = stats(s);
    while (!st.equals(new SystemActor.Stats(0, 0, 0, 0, 0)) && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      st = stats(s);
    }
    assertEquals(new SystemActor.Stats(0, 0, 0, 0, 0), st, "clients, groups, children, memberships");
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{}}", server.api.post("get_all_groups", s, "{}").body());
  }
}

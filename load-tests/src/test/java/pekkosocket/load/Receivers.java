package pekkosocket.load;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The receiving side of {@link Unicast} and {@link UnicastBatch}: connections that publish their clientId, take the
 * pushes (code 200, a unique {@code seq} each) addressed to them until the senders are done, and then check that
 * every push the server said it delivered to them arrived exactly once ("every push once": a KO per client that
 * missed one or got one twice). Delivery latency (payload timestamp to receipt) is recorded for every push.
 */
final class Receivers {
  /** The clientIds of the connected receivers; only ever appended to. */
  private final List<String> ids = new CopyOnWriteArrayList<>();
  /** Per clientId, the pushes the server answered as delivered to it. */
  private final ConcurrentHashMap<String, AtomicLong> expected = new ConcurrentHashMap<>();
  /** Per clientId, the seqs of the pushes the server answered as delivered to it (where the sender knows them). */
  private final ConcurrentHashMap<String, Set<Long>> answered = new ConcurrentHashMap<>();
  private final AtomicLong seq = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong done = new AtomicLong();
  /** Senders still in their loop: the receivers check only once the last one has had its last answer. */
  private final AtomicLong sending = new AtomicLong();
  final Load.Latency latency = new Load.Latency();

  /** The payload of the next push, with its own sequence number: counted as sent when called. */
  String nextPayload() {
    return Load.payload(seq.getAndIncrement());
  }

  long sent() {
    return seq.get();
  }

  long delivered() {
    return delivered.get();
  }

  long received() {
    return received.get();
  }

  /** One connected client at random. */
  String random() {
    return ids.get(ThreadLocalRandom.current().nextInt(ids.size()));
  }

  /** {@code n} distinct connected clients at random (all of them when fewer are connected): Floyd's sampling. */
  List<String> distinct(int n) {
    int size = ids.size(); // ids only grows: indexes below size stay valid
    int k = Math.min(n, size);
    Set<Integer> picked = new LinkedHashSet<>();
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int j = size - k; j < size; j++) {
      int t = random.nextInt(j + 1);
      if (!picked.add(t)) picked.add(j);
    }
    List<String> out = new ArrayList<>(k);
    for (int i : picked) out.add(ids.get(i));
    return out;
  }

  /** The seq of the next push (counted as sent), for {@link Load#payload}. */
  long nextSeq() {
    return seq.getAndIncrement();
  }

  /** The server answered that a push to {@code clientId} was queued for it. */
  void deliveredTo(String clientId) {
    delivered.incrementAndGet();
    expected.computeIfAbsent(clientId, key -> new AtomicLong()).incrementAndGet();
  }

  /** As {@link #deliveredTo(String)}, for the push numbered {@code seq} (named in a failed check's report). */
  void deliveredTo(String clientId, long seq) {
    answered.computeIfAbsent(clientId, key -> ConcurrentHashMap.newKeySet()).add(seq);
    deliveredTo(clientId);
  }

  private ChainBuilder consume() {
    return exec(ws.processUnmatchedMessages((messages, session) -> {
      @SuppressWarnings("unchecked")
      Set<Long> seen = (Set<Long>) session.get("seen");
      long got = session.getLong("got");
      long twice = session.getLong("twice");
      for (var m : messages) {
        String f = Load.text(m);
        if (!f.contains("\"code\":200,")) continue;
        got++;
        if (!seen.add(Load.number(f, "seq"))) twice++;
        received.incrementAndGet();
        latency.record(Load.number(f, "ts"), m.timestamp());
      }
      return session.set("got", got).set("twice", twice);
    }));
  }

  private boolean everyPushOnce(Session s) {
    AtomicLong want = expected.get(s.getString("clientId"));
    long wanted = want == null ? 0 : want.get();
    boolean ok = s.getLong("twice") == 0 && s.getLong("got") == wanted;
    if (!ok) {
      @SuppressWarnings("unchecked")
      Set<Long> seen = (Set<Long>) s.get("seen");
      Set<Long> said = answered.getOrDefault(s.getString("clientId"), Set.of());
      Set<Long> notSaid = new java.util.TreeSet<>(seen);
      notSaid.removeAll(said);
      Set<Long> notSeen = new java.util.TreeSet<>(said);
      notSeen.removeAll(seen);
      System.out.println("every push once: client " + s.getString("clientId") + " got " + s.getLong("got")
          + " pushes (" + s.getLong("twice") + " of them twice), the server said " + wanted + " were delivered"
          + (said.isEmpty() ? "" : "; received, not answered delivered: seq " + notSaid
              + "; answered delivered, not received: seq " + notSeen));
    }
    return ok;
  }

  /** The receivers: connect, wait for {@link #done()} while consuming, then check and close. */
  ScenarioBuilder receivers() {
    return scenario("receivers")
        .exec(s -> s.set("got", 0L).set("twice", 0L).set("seen", new HashSet<Long>()))
        .exec(ws("connect").connect("/ws?systemId=" + Load.system())
            .await(Duration.ofSeconds(30)).on(ws.checkTextMessage("welcome")
                .check(jsonPath("$.data.clientId").saveAs("clientId"))))
        .exitHereIfFailed()
        .exec(s -> {
          ids.add(s.getString("clientId"));
          return s;
        })
        .asLongAs(s -> done.get() == 0 || sending.get() > 0).on(pause(Duration.ofMillis(500)).exec(consume()))
        .pause(Duration.ofSeconds(3)) // the last frames in flight
        .exec(consume())
        .exec(http("every push once").get("/health/live")
            .check(status().is(s -> everyPushOnce(s) ? 200 : 599)))
        .exec(ws("close").close());
  }

  /** A sender's loop, counted so that the receivers' check waits for its last answer (however late). */
  ChainBuilder sending(ChainBuilder loop) {
    return exec(s -> {
      sending.incrementAndGet();
      return s;
    }).exec(loop).exec(s -> {
      sending.decrementAndGet();
      return s;
    });
  }

  /** One user that tells the receivers the senders are done. */
  ScenarioBuilder done() {
    return scenario("done").exec(s -> {
      done.set(1);
      return s;
    });
  }
}

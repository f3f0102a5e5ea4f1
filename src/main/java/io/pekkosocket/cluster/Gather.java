package io.pekkosocket.cluster;

import io.pekkosocket.ops.Metrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One API call's wait for other nodes (a short-lived child of the {@link NodeRouter}): it sends each target node its
 * request, collects the answers ({@link Wire.Count}, {@link Wire.Ack}, {@link Wire.Members}), and finishes when
 * all have answered or at the deadline, naming the nodes that did not. A group push's tally first learns from the
 * group's sequencer which nodes will count ({@link Wire.Expect}).
 */
final class Gather {
  private Gather() {}

  /** The reachable target nodes (tag to router) and the nodes missing from the start (unreachable). */
  record Targets(Map<String, ActorRef<Wire.ToNode>> reach, List<String> missing) {
    boolean isEmpty() {
      return reach.isEmpty();
    }
  }

  /** What to send one node; {@code self} is the gathering actor (narrowed to the reply type). */
  interface Requests {
    Wire.ToNode request(String node, ActorRef<Object> self);
  }

  /** The answers by node, and the nodes that did not answer (sorted). */
  record Result(Map<String, Object> replies, List<String> missing) {
    int count() {
      int sum = 0;
      for (Object r : replies.values()) if (r instanceof Wire.Count c) sum += c.count();
      return sum;
    }
  }

  interface Finish {
    void done(Result result);
  }

  private enum Timeout implements NoSerializationVerificationNeeded { INSTANCE }

  static Behavior<Object> create(String operation, Targets targets, Requests requests, Duration timeout,
      Finish finish, Metrics metrics) {
    // a timer, not scheduleOnce: it is cancelled when the gather ends early (no dead letter per call)
    return Behaviors.withTimers(timers -> Behaviors.setup(ctx -> {
      long started = System.nanoTime();
      Map<String, Object> replies = new TreeMap<>();
      Set<String> waiting = new HashSet<>(targets.reach().keySet());
      targets.reach().forEach((node, router) -> router.tell(requests.request(node, ctx.getSelf())));
      timers.startSingleTimer(Timeout.INSTANCE, timeout);
      Consumer<Boolean> end = timedOut -> {
        List<String> missing = new ArrayList<>(targets.missing());
        missing.addAll(waiting);
        missing.sort(null);
        metrics.clusterGathered(operation, System.nanoTime() - started, !missing.isEmpty());
        finish.done(new Result(replies, missing));
      };
      if (waiting.isEmpty()) {
        end.accept(false);
        return Behaviors.stopped();
      }
      return Behaviors.receive(Object.class)
          .onMessage(Timeout.class, t -> {
            end.accept(true);
            return Behaviors.stopped();
          })
          .onAnyMessage(reply -> {
            String node = nodeOf(reply);
            if (node == null || !waiting.remove(node)) return Behaviors.same();
            replies.put(node, reply);
            if (!waiting.isEmpty()) return Behaviors.same();
            end.accept(false);
            return Behaviors.stopped();
          })
          .build();
    }));
  }

  /**
   * A group push's tally: {@code start} sends the push to the group's sequencer, which answers which nodes count
   * ({@link Wire.Expect}); their counts may come before that answer. Finishes with null when the sequencer never
   * answered (it dropped the push unsent: the caller gets 503); nodes that {@code unreachable} names are not waited
   * for.
   */
  static Behavior<Object> tally(String operation, Consumer<ActorRef<Object>> start, Predicate<String> unreachable,
      Duration timeout, Finish finish, Metrics metrics) {
    return Behaviors.withTimers(timers -> Behaviors.setup(ctx -> {
      long started = System.nanoTime();
      Map<String, Object> replies = new TreeMap<>();
      Set<String> waiting = new HashSet<>();
      List<String> missing = new ArrayList<>();
      boolean[] expected = {false};
      start.accept(ctx.getSelf());
      timers.startSingleTimer(Timeout.INSTANCE, timeout);
      Runnable end = () -> {
        List<String> all = new ArrayList<>(missing);
        all.addAll(waiting);
        all.sort(null);
        metrics.clusterGathered(operation, System.nanoTime() - started, !all.isEmpty());
        finish.done(new Result(replies, all));
      };
      return Behaviors.receive(Object.class)
          .onMessage(Timeout.class, t -> {
            if (!expected[0]) {
              metrics.clusterGathered(operation, System.nanoTime() - started, true);
              finish.done(null);
            } else {
              end.run();
            }
            return Behaviors.stopped();
          })
          .onMessage(Wire.Expect.class, e -> {
            expected[0] = true;
            for (String node : e.nodes()) {
              if (replies.containsKey(node)) continue;
              if (unreachable.test(node)) missing.add(node);
              else waiting.add(node);
            }
            // counts from nodes the sequencer did not name cannot come; drop any that did (none expected)
            replies.keySet().retainAll(e.nodes());
            if (!waiting.isEmpty()) return Behaviors.same();
            end.run();
            return Behaviors.stopped();
          })
          .onAnyMessage(reply -> {
            String node = nodeOf(reply);
            if (node == null) return Behaviors.same();
            replies.put(node, reply);
            if (!expected[0] || !waiting.remove(node) || !waiting.isEmpty()) return Behaviors.same();
            end.run();
            return Behaviors.stopped();
          })
          .build();
    }));
  }

  private static String nodeOf(Object reply) {
    if (reply instanceof Wire.Count c) return c.node();
    if (reply instanceof Wire.Ack a) return a.node();
    if (reply instanceof Wire.Members m) return m.node();
    return null;
  }
}

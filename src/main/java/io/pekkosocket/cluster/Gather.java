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
 * One API call's wait for other nodes: it sends each target node its request, collects the answers, and finishes
 * when all have answered or at the deadline, naming the nodes that did not ({@link Pending}). Pushes and closes
 * ({@link Wire.Counted} answers) wait inside the {@link NodeRouter}, which is their answers' one stable target; binds,
 * unbinds and lists ({@link Wire.Ack}, {@link Wire.Members}) wait in a short-lived child actor of the router
 * ({@link #create}), as does a group push's tally, which first learns from the group's sequencer which nodes will
 * count ({@link Wire.Expect}).
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

  /** What to send one node for a call answered with {@link Wire.Counted}: numbered {@code call}, answered to {@code to}. */
  interface Counting {
    Wire.ToNode request(String node, long call, ActorRef<Wire.Counted> to);
  }

  /** The answers by node, and the nodes that did not answer (sorted). */
  record Result(Map<String, Object> replies, List<String> missing) {
    int count() {
      int sum = 0;
      for (Object r : replies.values()) {
        if (r instanceof Wire.Count c) sum += c.count();
        else if (r instanceof Wire.Counted c) sum += c.count();
      }
      return sum;
    }
  }

  interface Finish {
    void done(Result result);
  }

  /** A call's answers so far: it ends when every reachable target has answered, or at its deadline. */
  static final class Pending {
    private final String operation;
    private final long started = System.nanoTime();
    private final long deadline;
    private final Map<String, Object> replies = new TreeMap<>();
    private final Set<String> waiting;
    private final List<String> missingFromStart;
    private final Finish finish;

    Pending(String operation, Targets targets, Duration timeout, Finish finish) {
      this.operation = operation;
      this.deadline = started + timeout.toNanos();
      this.waiting = new HashSet<>(targets.reach().keySet());
      this.missingFromStart = targets.missing();
      this.finish = finish;
    }

    /** Takes {@code node}'s answer (one per node; others are ignored); true once every target has answered. */
    boolean answer(String node, Object reply) {
      if (!waiting.remove(node)) return false;
      replies.put(node, reply);
      return waiting.isEmpty();
    }

    boolean complete() {
      return waiting.isEmpty();
    }

    boolean expired(long nanoTime) {
      return nanoTime - deadline >= 0;
    }

    /** Answers the call with what has come; the nodes still awaited are missing. */
    void end(Metrics metrics) {
      List<String> missing = new ArrayList<>(missingFromStart);
      missing.addAll(waiting);
      missing.sort(null);
      metrics.clusterGathered(operation, System.nanoTime() - started, !missing.isEmpty());
      finish.done(new Result(replies, missing));
    }
  }

  private enum Timeout implements NoSerializationVerificationNeeded { INSTANCE }

  static Behavior<Object> create(String operation, Targets targets, Requests requests, Duration timeout,
      Finish finish, Metrics metrics) {
    // a timer, not scheduleOnce: it is cancelled when the gather ends early (no dead letter per call)
    return Behaviors.withTimers(timers -> Behaviors.setup(ctx -> {
      Pending pending = new Pending(operation, targets, timeout, finish);
      targets.reach().forEach((node, router) -> router.tell(requests.request(node, ctx.getSelf())));
      if (pending.complete()) {
        pending.end(metrics);
        return Behaviors.stopped();
      }
      timers.startSingleTimer(Timeout.INSTANCE, timeout);
      return Behaviors.receive(Object.class)
          .onMessage(Timeout.class, t -> {
            pending.end(metrics);
            return Behaviors.stopped();
          })
          .onAnyMessage(reply -> {
            String node = nodeOf(reply);
            if (node == null || !pending.answer(node, reply)) return Behaviors.same();
            pending.end(metrics);
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

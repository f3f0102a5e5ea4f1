package io.pekkosocket.http;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The answer of an ask as a plain {@link CompletableFuture}. The stage {@code AskPattern.ask} returns is Scala's
 * converter, which runs every callback, even {@code whenComplete}, asynchronously on the common ForkJoinPool; on a
 * machine of two cores that pool has a parallelism of one, and {@code CompletableFuture} then starts a new thread
 * for every such task (measured: ~2,000 threads a second under API load, twice the CPU per call; docs/BENCHMARKS.md).
 * The future returned here is completed directly by the thread that completes the ask (the answering actor's, a
 * few instructions), and the route's own callbacks on it run there too.
 */
final class Asks {
  private Asks() {}

  static <T> CompletableFuture<T> direct(CompletionStage<T> asked) {
    CompletableFuture<T> f = new CompletableFuture<>();
    asked.whenCompleteAsync((result, failure) -> {
      if (failure != null) f.completeExceptionally(failure);
      else f.complete(result);
    }, Runnable::run);
    return f;
  }
}

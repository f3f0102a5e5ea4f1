package io.pekkosocket;

/** Whether the server takes traffic: bound and not draining. One instance per server, read by /health/ready. */
public final class Readiness {
  private volatile String state = "starting";

  public boolean isReady() {
    return "ready".equals(state);
  }

  public String state() {
    return state;
  }

  public boolean isDraining() {
    return "draining".equals(state);
  }

  void ready() {
    state = "ready";
  }

  void draining() {
    state = "draining";
  }

  /** Cluster mode: bound, not yet Up in the cluster with the registry. */
  void joining() {
    state = "joining";
  }

  /** Cluster mode: this node will not serve (another node has its node-id); it is stopping. */
  void failed() {
    state = "refused by the cluster";
  }
}

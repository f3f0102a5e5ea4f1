#!/usr/bin/env bash
# What nodes cost doing nothing: CPU of (a) one node, cluster off, and (c) three cluster nodes on this machine, with
# no client and no call, over WINDOW seconds after WARMUP seconds (a fixed cost every request and frame shares).
# Usage, from the repository root after `mvn -B -DskipTests package`:
#   [JAR=target/pekko-socket.jar] [WARMUP=60] [WINDOW=60] [POOLS=1] [JAVA_EXTRA="-D…"] load-tests/cluster-idle.sh [a c]
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=${JAR:-target/pekko-socket.jar}
WARMUP=${WARMUP:-60}
WINDOW=${WINDOW:-60}
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
ticks() { local s=0 p; for p in "${PIDS[@]}"; do s=$((s + $(awk '{print $14 + $15}' /proc/"$p"/stat))); done; echo $s; }
for mode in "${@:-a c}"; do
  for m in $mode; do
    n=1; [ "$m" = c ] && n=3
    PIDS=()
    for i in $(seq 1 $n); do
      env=(SOCKET_HTTP_HOST=127.0.0.1 SOCKET_HTTP_PORT=780$i SOCKET_DATA_DIR="$WORK/$m$i" SOCKET_LOG_LEVEL=WARN)
      if [ "$m" = c ]; then
        env+=(SOCKET_CLUSTER_ENABLED=on SOCKET_NODE_ID=n$i SOCKET_CLUSTER_PORT=1735$((5 + i))
              SOCKET_CLUSTER_SEEDS=127.0.0.1:17356)
      fi
      # shellcheck disable=SC2086
      env "${env[@]}" java -XX:+UseParallelGC -Xmx1g ${JAVA_EXTRA:-} -jar "$JAR" > "$WORK/$m$i.log" 2>&1 &
      PIDS+=($!)
    done
    for i in $(seq 1 $n); do
      ready=
      for _ in $(seq 1 120); do
        curl -sf "http://127.0.0.1:780$i/health/ready" > /dev/null && ready=1 && break
        sleep 1
      done
      [ -n "$ready" ] || { echo "node $i not ready after 120 s; its log ends:" >&2; tail -20 "$WORK/$m$i.log" >&2; exit 1; }
    done
    sleep "$WARMUP"
    t0=$(ticks)
    # POOLS=1: by thread pool too (thread-pools.sh, whose jstack runs after this window's last sample)
    if [ -n "${POOLS:-}" ]; then load-tests/thread-pools.sh "$(IFS=,; echo "${PIDS[*]}")" "$WINDOW" & pools=$!; fi
    sleep "$WINDOW"
    t1=$(ticks)
    if [ -n "${POOLS:-}" ]; then wait "$pools" || true; fi
    awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v w="$WINDOW" -v m="$m" -v n="$n" \
      'BEGIN { printf "(%s) %d node(s), idle: %.2f %% of one core (summed over the nodes)\n", m, n, 100 * t / hz / w }'
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  done
done

#!/usr/bin/env bash
# What cluster mode costs, in one sitting on one machine (issue 12's benchmarks; never run in CI):
#   (a) cluster off, one node   (b) cluster on, one node   (c) cluster on, three nodes
# each under GroupFanOut (CLIENTS members, one group, FANOUT_RATE pushes/s) and Unicast (CLIENTS clients,
# UNICAST_RATE send_to_client/s), measured by measure.sh over a steady window (server CPU summed over the nodes per
# delivered frame and per API request; delivery latency from the simulation).
# Usage, from the repository root after `mvn -B -DskipTests package`:
#   [JAR=target/pekko-socket.jar] [WARMUP=30] [WINDOW=30] [POOLS=1] [GC=-XX:+UseG1GC] [JAVA_EXTRA="-D…"] [CLIENTS=999] [FANOUT_RATE=100] [UNICAST_RATE=2000] [SIMS="GroupFanOut Unicast"] \
#     load-tests/cluster-bench.sh [a b c]
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=${JAR:-target/pekko-socket.jar}   # another build to compare (mode a): JAR=/path/to/its.jar
GC=${GC:--XX:+UseParallelGC}
CLIENTS=${CLIENTS:-999}
FANOUT_RATE=${FANOUT_RATE:-100}
UNICAST_RATE=${UNICAST_RATE:-2000}
export SOCKET_JWT_SECRET=${SOCKET_JWT_SECRET:-$(head -c 32 /dev/urandom | base64)}
TOKEN=$(java -jar target/pekko-socket.jar token --role admin)
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start() { # mode: a | b | c
  local mode=$1 n=1
  [ "$mode" = c ] && n=3
  PIDS=()
  local urls=()
  for i in $(seq 1 $n); do
    local env=(SOCKET_HTTP_HOST=127.0.0.1 SOCKET_HTTP_PORT=780$i SOCKET_DATA_DIR="$WORK/$mode$i" SOCKET_LOG_LEVEL=WARN)
    if [ "$mode" != a ]; then
      env+=(SOCKET_CLUSTER_ENABLED=on SOCKET_NODE_ID=n$i SOCKET_CLUSTER_PORT=1735$((5 + i))
            SOCKET_CLUSTER_SEEDS=127.0.0.1:17356)
    fi
    # shellcheck disable=SC2086
    env "${env[@]}" java "$GC" -Xmx1g ${JAVA_EXTRA:-} -jar "$JAR" > "$WORK/$mode$i.log" 2>&1 &
    PIDS+=($!)
    urls+=("http://127.0.0.1:780$i")
  done
  for u in "${urls[@]}"; do
    for _ in $(seq 1 120); do curl -sf "$u/health/ready" > /dev/null && break; sleep 1; done
  done
  URLS=$(IFS=,; echo "${urls[*]}")
  PIDLIST=$(IFS=,; echo "${PIDS[*]}")
}

stop() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; }

run() { # mode simulation rate
  local mode=$1 sim=$2 rate=$3
  echo "== ($mode) $sim, $CLIENTS clients, rate $rate, $GC, $(date -u +%FT%TZ)"
  WARMUP=${WARMUP:-30} WINDOW=${WINDOW:-30} load-tests/measure.sh "$PIDLIST" "$URLS" -- \
    mvn -B -o -q -f load-tests gatling:test -Dsimulation=pekkosocket.load.$sim -Dtoken="$TOKEN" -Durls="$URLS" \
      -Dclients="$CLIENTS" -Drate="$rate" -Dduration=$(( ${WARMUP:-30} + ${WINDOW:-30} + 10 )) -DsteadyAfter="${WARMUP:-30}" \
      -Dsystem="bench-$mode-$sim" 2>&1 \
    | grep -E "^server: [0-9.]+ us|^server: cpu|delivery latency|KO|failed|every push once: client| threads +[0-9]+ ctx" || true
  cat target/latency-*.txt load-tests/target/latency-*.txt 2>/dev/null || true
  rm -f target/latency-*.txt load-tests/target/latency-*.txt
}

for mode in "${@:-a b c}"; do
  for m in $mode; do
    start "$m"
    for sim in ${SIMS:-GroupFanOut Unicast}; do
      if [ "$sim" = GroupFanOut ]; then run "$m" "$sim" "$FANOUT_RATE"; else run "$m" "$sim" "$UNICAST_RATE"; fi
    done
    stop
  done
done

#!/usr/bin/env bash
# Soak / idle run: holds CLIENTS connections for HOLD seconds (ConnectStorm with light traffic) and reports the
# server's RSS, heap after GC, threads and CPU at the start and the end of the hold.
# Usage: SERVER_PID=<pid> TOKEN=<admin JWT> CLIENTS=10000 HOLD=600 [BROWSER=1] load-tests/soak.sh
# BROWSER=1: every handshake carries the headers Chrome sends on a WebSocket upgrade (ConnectStorm -Dbrowser=true).
set -euo pipefail
cd "$(dirname "$0")"
: "${SERVER_PID:?set SERVER_PID}" "${TOKEN:?set TOKEN}"
CLIENTS=${CLIENTS:-10000}
HOLD=${HOLD:-600}
RATE=${RATE:-400}
URL=${URL:-http://127.0.0.1:7800}
EVERY=${EVERY:-10}
BROWSER=${BROWSER:-0}
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' /proc/"$SERVER_PID"/stat; }
open() { curl -s "$URL/metrics" | awk '$1=="socket_connections_open" {printf "%d", $2}'; }

mvn -B -q gatling:test -Dsimulation=pekkosocket.load.ConnectStorm -Durl="$URL" -Dtoken="$TOKEN" \
  -Dclients="$CLIENTS" -Drate="$RATE" -Dhold="$HOLD" -Devery="$EVERY" \
  -Dbrowser="$([ "$BROWSER" = 1 ] && echo true || echo false)" > target/soak-gatling.log 2>&1 &
gatling=$!
ramp_deadline=$((SECONDS + CLIENTS / RATE + 120))
while [ "$(open)" -lt "$CLIENTS" ] && [ $SECONDS -lt $ramp_deadline ]; do sleep 1; done
echo "hold start: $(open) connections"
./server-stats.sh "$SERVER_PID" "$URL"
t0=$(ticks); s0=$SECONDS
sleep $((HOLD - 30))
t1=$(ticks); s1=$SECONDS
echo "hold end: $(open) connections"
./server-stats.sh "$SERVER_PID" "$URL"
awk -v t=$((t1 - t0)) -v hz="$hz" -v s=$((s1 - s0)) 'BEGIN {printf "server CPU during the hold: %.1f%% of one core (%.1f s over %d s)\n", 100*t/hz/s, t/hz, s}'
wait $gatling || true
grep -E "connect-storm:|: (true|false)|Global Information" -A0 target/soak-gatling.log || true

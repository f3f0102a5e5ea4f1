#!/usr/bin/env bash
# Runs a load command and reports the server's own cost, independent of the load generator: CPU seconds the
# server process used (user + system, from /proc/<pid>/stat), the frames it wrote and the API requests it served
# (from /metrics), and so microseconds of server CPU per delivered frame and per API request.
# It ends with the server's RSS, heap after GC, threads and heap per held connection (server-stats.sh).
# With WARMUP=<s> WINDOW=<s> it measures only that window of the run (steady state, after connects and ramp-up);
# otherwise the whole run.
# Several nodes (cluster mode): comma-separated pids and urls, in the same order; CPU, frames and requests are
# summed over all of them (the cost of the whole cluster per frame and per request).
# Usage: [WARMUP=20 WINDOW=30 [POOLS=1]] load-tests/measure.sh <server-pid>[,pid…] <server-url>[,url…] -- <command ...>
set -euo pipefail
IFS=, read -r -a pids <<< "$1"
IFS=, read -r -a urls <<< "$2"
pid=${pids[0]}
url=${urls[0]}
shift 3
hz=$(getconf CLK_TCK)
user() { local s=0; for p in "${pids[@]}"; do s=$((s + $(awk '{print $14}' /proc/"$p"/stat))); done; echo $s; }
sys() { local s=0; for p in "${pids[@]}"; do s=$((s + $(awk '{print $15}' /proc/"$p"/stat))); done; echo $s; }
scrape() { for u in "${urls[@]}"; do curl -s "$u/metrics"; done; }
frames() { scrape | awk '$1=="socket_frames_written_total" {s += $2} END {printf "%d", s}'; }
requests() { scrape | awk '/^socket_api_requests_seconds_count/ {s += $2} END {printf "%d", s}'; }
# context switches (voluntary + involuntary) summed over every thread of every server: each thread hand-off is one
ctxsw() { local s=0; for p in "${pids[@]}"; do s=$((s + $(cat /proc/"$p"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {printf "%d", s}'))); done; echo $s; }
sample() { c=$(ctxsw); u=$(user); k=$(sys); f=$(frames); r=$(requests); s=$(date +%s.%N); echo "$u $k $f $r $s $c"; }

if [ -n "${WINDOW:-}" ]; then
  "$@" & load=$!
  sleep "${WARMUP:-0}"
  read -r u0 k0 f0 r0 s0 c0 <<< "$(sample)"
  # POOLS=1: the window's CPU and context switches by thread pool too (thread-pools.sh; its jstack runs after the
  # window's last sample)
  pools=
  if [ -n "${POOLS:-}" ]; then
    pools=$(mktemp)
    "$(dirname "$0")/thread-pools.sh" "$(IFS=,; echo "${pids[*]}")" "$WINDOW" > "$pools" & pools_pid=$!
  fi
  sleep "$WINDOW"
  read -r u1 k1 f1 r1 s1 c1 <<< "$(sample)"
  if [ -n "$pools" ]; then wait "$pools_pid" || true; cat "$pools"; rm -f "$pools"; fi
  # memory while the connections are still held (forces a full GC, after the CPU window)
  for i in "${!pids[@]}"; do "$(dirname "$0")/server-stats.sh" "${pids[$i]}" "${urls[$i]}" | sed "s/^/server ${pids[$i]}: /"; done
  wait $load || echo "load command exited with $?"
else
  read -r u0 k0 f0 r0 s0 c0 <<< "$(sample)"
  "$@" || echo "load command exited with $?"
  read -r u1 k1 f1 r1 s1 c1 <<< "$(sample)"
  for i in "${!pids[@]}"; do "$(dirname "$0")/server-stats.sh" "${pids[$i]}" "${urls[$i]}" | sed "s/^/server ${pids[$i]}: /"; done
fi

awk -v u=$((u1 - u0)) -v k=$((k1 - k0)) -v hz="$hz" -v f=$((f1 - f0)) -v r=$((r1 - r0)) -v s0="$s0" -v s1="$s1" -v c=$((c1 - c0)) 'BEGIN {
  cpu = (u + k) / hz; wall = s1 - s0;
  printf "server: cpu=%.2fs (user %.2fs, system %.2fs) wall=%.1fs (%.0f%% of one core) frames_written=%d api_requests=%d\n", cpu, u/hz, k/hz, wall, 100*cpu/wall, f, r;
  if (f > 0) printf "server: %.2f us of server CPU per delivered frame (all server work / frames), %.0f frames/s, %.3f context switches per frame\n", 1e6*cpu/f, f/wall, c/f;
  if (r > 0) printf "server: %.1f us of server CPU per API request (all server work / requests), %.0f requests/s, %.2f context switches per request\n", 1e6*cpu/r, r/wall, c/r;
}'

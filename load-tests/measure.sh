#!/usr/bin/env bash
# Runs a load command and reports the server's own cost, independent of the load generator:
# CPU seconds the server process used (from /proc/<pid>/stat), frames it wrote and API requests it served (from
# /metrics), and so microseconds of server CPU per delivered frame and per API request.
# Usage: load-tests/measure.sh <server-pid> <server-url> -- <command ...>
set -euo pipefail
pid=$1
url=$2
shift 3
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' /proc/"$pid"/stat; }
scrape() { curl -s "$url/metrics"; }
frames() { scrape | awk '$1=="socket_frames_written_total" {printf "%d", $2}'; }
requests() { scrape | awk '/^socket_api_requests_seconds_count/ {s += $2} END {printf "%d", s}'; }

t0=$(ticks); f0=$(frames); r0=$(requests); s0=$(date +%s.%N)
"$@" || echo "load command exited with $?"
t1=$(ticks); f1=$(frames); r1=$(requests); s1=$(date +%s.%N)

awk -v t="$((t1 - t0))" -v hz="$hz" -v f="$((f1 - f0))" -v r="$((r1 - r0))" -v s0="$s0" -v s1="$s1" 'BEGIN {
  cpu = t / hz; wall = s1 - s0;
  printf "server: cpu=%.2fs wall=%.1fs (%.0f%% of one core) frames_written=%d api_requests=%d\n", cpu, wall, 100*cpu/wall, f, r;
  if (f > 0) printf "server: %.2f us of server CPU per delivered frame (all server work / frames), %.0f frames/s\n", 1e6*cpu/f, f/wall;
  if (r > 0) printf "server: %.1f us of server CPU per API request (all server work / requests), %.0f requests/s\n", 1e6*cpu/r, r/wall;
}'

#!/usr/bin/env bash
# Prints the server's own resource use: RSS, threads, open fds, heap used after a full GC, open connections and
# heap per connection. Usage: load-tests/server-stats.sh <server-pid> [server-url]
set -euo pipefail
pid=$1
url=${2:-http://127.0.0.1:7800}
rss_kib=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status)
threads=$(awk '/^Threads/ {print $2}' /proc/"$pid"/status)
fds=$(ls /proc/"$pid"/fd | wc -l)
jcmd "$pid" GC.run > /dev/null
# heap in use after the GC: G1 prints one line for the whole heap, Parallel/Serial one line per generation
heap_kib=$(jcmd "$pid" GC.heap_info | awk '
  /garbage-first heap/ { match($0, /used [0-9]+K/); print substr($0, RSTART + 5, RLENGTH - 6); found = 1; exit }
  /PSYoungGen|ParOldGen|def new generation|tenured generation/ { match($0, /used [0-9]+K/); sum += substr($0, RSTART + 5, RLENGTH - 6) }
  END { if (!found) print sum + 0 }')
conns=$(curl -s "$url/metrics" | awk '$1=="socket_connections_open" {printf "%d", $2}')
per_conn="n/a"
if [ "${conns:-0}" -gt 0 ]; then per_conn=$(awk -v h="$heap_kib" -v c="$conns" 'BEGIN {printf "%.2f", h/c}'); fi
echo "$(date -u +%FT%TZ) rss=${rss_kib}KiB threads=$threads fds=$fds heap_after_gc=${heap_kib}KiB connections=$conns heap_per_connection=${per_conn}KiB"

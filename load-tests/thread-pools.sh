#!/usr/bin/env bash
# Where a server's CPU and thread wake-ups go, by thread pool: over <seconds>, the CPU (user + system) and the
# context switches (voluntary + involuntary) of every thread of the given JVMs, summed by pool (the thread's name
# from jstack without its trailing number: pekko.actor.default-dispatcher, pekko.remote.default-remote-dispatcher,
# C2_CompilerThread, ...). Run it during a load (measure.sh's window, POOLS=1) to see which hand-offs a path pays
# for. jstack runs once the window is over (threads started within the window and gone before its end are not named).
# Usage: load-tests/thread-pools.sh <pid>[,pid…] <seconds>
set -euo pipefail
IFS=, read -r -a pids <<< "$1"
secs=$2
hz=$(getconf CLK_TCK)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
snap() { # pid -> lines "tid ctx cputicks" (the thread's name in stat may hold spaces: fields counted after it)
  for t in /proc/"$1"/task/*; do
    local tid=${t##*/} c u
    c=$(awk '/ctxt_switches/ {s += $2} END {printf "%d", s}' "$t/status" 2>/dev/null) || continue
    u=$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "$t/stat" 2>/dev/null) || continue
    echo "$tid $c $u"
  done
}
names() { # pid -> lines "tid pool"; jstack prints nid in hex (JDK 17) or decimal (JDK 18 and later)
  { jstack "$1" 2>/dev/null || true; } | awk '/^"/ && /nid=/ {
    match($0, /^"[^"]*"/); name = substr($0, 2, RLENGTH - 2)
    match($0, /nid=(0x)?[0-9a-fA-F]+/); nid = substr($0, RSTART + 4, RLENGTH - 4)
    sub(/^.*-pekko\./, "pekko.", name); gsub(/[-#]?[0-9]+$/, "", name); gsub(/ +[0-9]+$/, "", name)
    gsub(/ /, "_", name); print nid, name }' | while read -r nid name; do echo "$((nid)) $name"; done
}
for p in "${pids[@]}"; do snap "$p" > "$tmp/$p.0"; done
sleep "$secs"
for p in "${pids[@]}"; do snap "$p" > "$tmp/$p.1"; done
for p in "${pids[@]}"; do names "$p" > "$tmp/$p.n"; done
for p in "${pids[@]}"; do
  awk -v hz="$hz" 'FILENAME ~ /\.n$/ {pool[$1] = $2; next}
    FILENAME ~ /\.0$/ {c0[$1] = $2; u0[$1] = $3; next}
    { name = ($1 in pool) ? pool[$1] : "(other)"; dc = $2 - c0[$1]; du = $3 - u0[$1]
      ctx[name] += dc; cpu[name] += du; n[name]++ }
    END { for (k in ctx) if (ctx[k] > 0 || cpu[k] > 0) printf "%-52s %3d threads %9d ctx %8.2f s cpu\n", k, n[k], ctx[k], cpu[k] / hz }' \
    "$tmp/$p.n" "$tmp/$p.0" "$tmp/$p.1" | sort -k4 -n -r | sed "s/^/$p /"
done

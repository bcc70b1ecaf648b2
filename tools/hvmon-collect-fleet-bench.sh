#!/usr/bin/env bash
# Fleet load benchmark (issue 18; docs/BENCHMARKS.md "Collector: a fleet of senders"), loopback only:
# hvmon-collect-sim --fleet N senders (each its own boot nonce and per-boot key), D datagrams/s in
# total for S seconds, into one hvmon-collect (not --quiet: its stderr is the report volume).
# Prints the collector's peak RSS, CPU time, loss (sent vs received vs the collector's gap count)
# and stderr volume. Not part of make test.
# Usage: tools/hvmon-collect-fleet-bench.sh [SENDERS] [SECONDS] [RATE]   (default 5000 60 20000)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$top/build}
N=${1:-5000} S=${2:-60} R=${3:-20000}
T=$(mktemp -d /tmp/hvfleet.XXXXXX); trap 'rm -rf "$T"' EXIT
"$B/tools/hvmon-collect" --genkey "$T/key" 2>/dev/null
port=$(( 20000 + RANDOM % 30000 ))
/usr/bin/time -f '%e %U %S %M' -o "$T/time" "$B/tools/hvmon-collect" --listen 127.0.0.1:$port \
  --key "$T/key" --out "$T/out" --timeout $((S + 5)) --silence $((S + 60)) 2>"$T/err" &
cpid=$!
sleep 0.5
"$B/tools/hvmon-collect-sim" --to 127.0.0.1:$port --key "$T/key" --fleet "$N" --seconds "$S" --rate "$R" | tee "$T/sim"
wait $cpid || true
read -r wall user sys rss < <(tail -1 "$T/time")
sent=$(sed -n 's/.* \([0-9]*\) datagrams sent.*/\1/p' "$T/sim")
recv=$(sed -n 's/.*summary: datagrams \([0-9]*\) .*/\1/p' "$T/err")
lost=$(sed -n 's/.*summary: .* lost \([0-9]*\) .*/\1/p' "$T/err")
sessions=$(grep -c 'session: ' "$T/err" || true)
echo "collector: $(grep summary "$T/err" | sed 's/.*summary: //')"
echo "fleet $N senders, $S s, $R datagrams/s: sent $sent, received $recv ($(awk -v a="$recv" -v b="$sent" 'BEGIN{printf "%.3f", b ? 100*(b-a)/b : 0}') % lost; collector gap count $lost), sessions $sessions"
echo "collector: peak RSS $((rss / 1024)) MiB, CPU user $user s + sys $sys s over $wall s wall ($(awk -v u="$user" -v s="$sys" -v w="$wall" 'BEGIN{printf "%.0f", 100*(u+s)/w}') % of one core)"
echo "reports: stderr $(wc -c < "$T/err") bytes, $(wc -l < "$T/err") lines; output $(wc -c < "$T/out") bytes"

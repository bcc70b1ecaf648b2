#!/usr/bin/env bash
# Host network benchmark (docs/BENCHMARKS.md "Network (host)"):
#  1. encoder only and the ring -1 event path on this CPU (hvmon-collect-sim --bench)
#  2. end to end on loopback: hvmon-collect-sim → UDP 127.0.0.1 → hvmon-collect
#     (verify, decode, JSON to a file), N events as fast as the sender can go,
#     and paced runs; reports events/s and loss as the collector saw it.
# Usage: tools/hvmon-collect-bench.sh [EVENTS]   (default 200000)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$top/build}
N=${1:-200000}
T=$(mktemp -d /tmp/hvbench.XXXXXX); trap 'rm -rf "$T"' EXIT
"$B/tools/hvmon-collect" --genkey "$T/key" 2>/dev/null
echo "== encoder / ring path (host CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
"$B/tools/hvmon-collect-sim" --to 127.0.0.1:9 --key "$T/key" --events "$N" --bench 2>/dev/null
run() { # pace_us
  local port=$(( 20000 + RANDOM % 30000 ))
  "$B/tools/hvmon-collect" --listen 127.0.0.1:$port --key "$T/key" --out "$T/out" --quiet \
      --count "$N" --timeout 120 2>"$T/err" &
  local cpid=$!
  sleep 0.3
  local t0; t0=$(date +%s.%N)
  "$B/tools/hvmon-collect-sim" --to 127.0.0.1:$port --key "$T/key" --events "$N" --pace-us "$1" 2>/dev/null
  # the collector exits at N events, or at the timeout if some were lost
  local rc=0; wait $cpid || rc=$?
  local t1; t1=$(date +%s.%N)
  local got; got=$(wc -l < "$T/out"); rm -f "$T/out"
  printf 'loopback pace %4s us/datagram: %d/%d events in %.2f s = %.0f events/s, exit %d; %s\n' \
    "$1" "$got" "$N" "$(awk "BEGIN{print $t1 - $t0}")" "$(awk "BEGIN{print $got / ($t1 - $t0)}")" "$rc" \
    "$(sed -n 's/.*summary: //p' "$T/err")"
}
echo "== end to end on loopback (collector writes JSON lines to a file)"
run 0
run 20
echo "== latency on loopback: event created in the sender -> JSON line written by the collector"
port=$(( 20000 + RANDOM % 30000 ))
"$B/tools/hvmon-collect" --listen 127.0.0.1:$port --key "$T/key" --out "$T/lat" --quiet --latency \
    --count 2000 --timeout 60 2>"$T/err" & cpid=$!
sleep 0.3
"$B/tools/hvmon-collect-sim" --to 127.0.0.1:$port --key "$T/key" --latency-probe 2000 --pace-us 500 2>/dev/null
wait $cpid || true
sed -n 's/.*latency/latency/p' "$T/err"

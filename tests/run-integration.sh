#!/usr/bin/env bash
# Run integration scenario scripts, INTEGRATION_JOBS at a time (default 2: Bochs and QEMU TCG are
# single-threaded, so two scenarios use the two cores of the CI machine; 1 runs them one after
# another), each bounded by a timeout. Longest scenarios start first (tests/integration/durations:
# measured seconds per script; an unlisted script counts as DEFAULT_COST), so the two lanes end
# together. A script passes with exit 0, fails otherwise; exit 77 means "skipped" and is reported
# and counted as skipped, never as passed. Logs: build/test-logs/integration/<name>.log.
# Scripts that run side by side must not share a port, a /tmp path or a build output: they use
# mktemp, free ports picked at run time, and per-scenario names under build/ (tests/bochs/lib.sh);
# shared fixtures (tests/fixtures.sh, tests/guest/build-module.sh) take their own locks, and
# `make test-integration` builds every program the scripts need first (integration-prereqs).
# Usage: tests/run-integration.sh SCRIPT...   (make test-integration passes INTEGRATION_TESTS)
# Env: INTEGRATION_TIMEOUT (seconds per script, default 900; a script whose measured duration in
# tests/integration/durations is over 2/3 of it gets 1.5x its duration); INTEGRATION_JOBS (default 2);
# HV_RESULTS=FILE appends "pass|fail|skip integration:<name>". Each finished script's wall seconds
# go to build/test-logs/integration/durations ("NAME SECONDS RC", this call's scripts only): the
# numbers to refresh tests/integration/durations with after a full run (docs/TESTING.md).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
logs="$top/build/test-logs/integration"; mkdir -p "$logs"
tmo=${INTEGRATION_TIMEOUT:-900}
jobs=${INTEGRATION_JOBS:-2}
case $jobs in ''|*[!0-9]*|0) echo "integration: INTEGRATION_JOBS must be a positive integer" >&2; exit 2 ;; esac
DEFAULT_COST=120
pass=0 fail=0 skip=0
record() { [ -n "${HV_RESULTS:-}" ] && echo "$1 $2" >> "$HV_RESULTS"; return 0; }
if [ $# -eq 0 ]; then
  echo "integration: no scenario scripts given (INTEGRATION_TESTS is empty)" >&2
  record fail integration:none; echo "integration: 0 passed, 1 failed"; exit 1
fi

# cost NAME: the measured seconds of NAME (durations file), else DEFAULT_COST
cost() {
  local c
  c=$(awk -v n="$1" '$1 == n { print $2; exit }' "$top/tests/integration/durations" 2>/dev/null)
  echo "${c:-$DEFAULT_COST}"
}

# the scripts, longest first (stable for equal costs: given order)
order=()
i=0
while read -r _ _ t; do order+=("$t"); done < <(
  for t in "$@"; do printf '%s %s %s\n' "$(cost "$(basename "$t" .sh)")" "$i" "$t"; i=$((i + 1)); done |
    sort -k1,1nr -k2,2n)

state=$(mktemp -d); trap 'rm -rf "$state"' EXIT
: > "$logs/durations"

# run_one SCRIPT: run it, write "rc secs" to $state/<name>
# tmo_of NAME: the timeout of NAME: INTEGRATION_TIMEOUT, or 1.5x its measured duration when that is longer
# (hang_bochs on 2 CPUs measured 1049 s alone on a loaded machine)
tmo_of() {
  local c; c=$(cost "$1")
  [ $(( c * 3 / 2 )) -gt "$tmo" ] && echo $(( c * 3 / 2 )) || echo "$tmo"
}

run_one() {
  local t=$1 name start rc
  name=$(basename "$t" .sh); start=$(date +%s)
  (cd "$top" && exec timeout -k 10 "$(tmo_of "$name")" bash "$t") > "$logs/$name.log" 2>&1 < /dev/null
  rc=$?
  echo "$rc $(( $(date +%s) - start ))" > "$state/$name.done"
}

# report NAME: print and record the result of a finished script
report() {
  local name=$1 rc secs log="$logs/$1.log" why
  read -r rc secs < "$state/$name.done"
  echo "$name $secs $rc" >> "$logs/durations"
  case $rc in
    0) echo "ok   integ $name (${secs}s)"; pass=$((pass + 1)); record pass "integration:$name" ;;
    77) echo "SKIP integ $name (${secs}s): $(grep -a -m1 -i 'skip' "$log")"; skip=$((skip + 1))
        record skip "integration:$name" ;;
    *) [ "$rc" = 124 ] && why="timeout after $(tmo_of "$name")s" || why="rc=$rc"
       echo "FAIL integ $name ($why, ${secs}s) — $log"
       tail -n 30 "$log" | sed 's/^/    /'
       fail=$((fail + 1)); record fail "integration:$name" ;;
  esac
}

# reap: report every finished script not reported yet; print how many are still running
declare -A running=()
reap() {
  local n
  for n in "${!running[@]}"; do
    if [ -f "$state/$n.done" ]; then report "$n"; unset "running[$n]"; fi
  done
}

for t in "${order[@]}"; do
  name=$(basename "$t" .sh)
  if [ ! -f "$t" ]; then
    echo "FAIL integ $name: script missing ($t)"; fail=$((fail + 1)); record fail "integration:$name"; continue
  fi
  while [ "${#running[@]}" -ge "$jobs" ]; do wait -n 2>/dev/null || true; reap; done
  echo "...  integ $name (timeout $(tmo_of "$name")s)"
  run_one "$t" &
  running[$name]=$!
done
while [ "${#running[@]}" -gt 0 ]; do wait -n 2>/dev/null || true; reap; done

echo "integration: $pass passed, $fail failed$([ "$skip" = 0 ] || echo ", $skip skipped")"
[ "$fail" = 0 ]

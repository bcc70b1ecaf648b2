#!/usr/bin/env bash
# Run integration scenario scripts one after another (never two Bochs at once), each bounded
# by a timeout. A script passes with exit 0, fails otherwise; exit 77 means "skipped" and is
# reported and counted as skipped, never as passed. Logs: build/test-logs/integration/<name>.log.
# Usage: tests/run-integration.sh SCRIPT...   (make test-integration passes INTEGRATION_TESTS)
# Env: INTEGRATION_TIMEOUT (seconds per script, default 900); HV_RESULTS=FILE appends
# "pass|fail|skip integration:<name>".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
logs="$top/build/test-logs/integration"; mkdir -p "$logs"
tmo=${INTEGRATION_TIMEOUT:-900}
pass=0 fail=0 skip=0
record() { [ -n "${HV_RESULTS:-}" ] && echo "$1 $2" >> "$HV_RESULTS"; return 0; }
if [ $# -eq 0 ]; then
  echo "integration: no scenario scripts given (INTEGRATION_TESTS is empty)" >&2
  record fail integration:none; echo "integration: 0 passed, 1 failed"; exit 1
fi
for t in "$@"; do
  name=$(basename "$t" .sh); log="$logs/$name.log"
  if [ ! -f "$t" ]; then
    echo "FAIL integ $name: script missing ($t)"; fail=$((fail + 1)); record fail "integration:$name"; continue
  fi
  start=$(date +%s)
  echo "...  integ $name (timeout ${tmo}s)"
  (cd "$top" && exec timeout -k 10 "$tmo" bash "$t") > "$log" 2>&1 < /dev/null
  rc=$?
  secs=$(( $(date +%s) - start ))
  case $rc in
    0) echo "ok   integ $name (${secs}s)"; pass=$((pass + 1)); record pass "integration:$name" ;;
    77) echo "SKIP integ $name (${secs}s): $(grep -a -m1 -i 'skip' "$log")"; skip=$((skip + 1))
        record skip "integration:$name" ;;
    *) [ "$rc" = 124 ] && why="timeout after ${tmo}s" || why="rc=$rc"
       echo "FAIL integ $name ($why, ${secs}s) — $log"
       tail -n 30 "$log" | sed 's/^/    /'
       fail=$((fail + 1)); record fail "integration:$name" ;;
  esac
done
echo "integration: $pass passed, $fail failed$([ "$skip" = 0 ] || echo ", $skip skipped")"
[ "$fail" = 0 ]

#!/usr/bin/env bash
# Run host unit-test binaries (cmocka). Counts individual test cases from cmocka's summary;
# a binary that is missing, crashes or prints no summary counts as one failure.
# Usage: tests/run-unit.sh BINARY...      (make test-unit passes every UNIT_TESTS binary)
# Logs: build/test-logs/unit/<name>.log. With HV_RESULTS=FILE, appends "pass|fail unit:<name>[:case]".
# Env: UNIT_TIMEOUT (seconds per binary, default 300).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
logs="$top/build/test-logs/unit"; mkdir -p "$logs"
tmo=${UNIT_TIMEOUT:-300}
pass=0 fail=0
record() { [ -n "${HV_RESULTS:-}" ] && echo "$1 $2" >> "$HV_RESULTS"; return 0; }
if [ $# -eq 0 ]; then
  echo "unit: no unit-test binaries given (UNIT_TESTS is empty)" >&2
  record fail unit:none
  echo "unit: 0 passed, 1 failed"; exit 1
fi
for bin in "$@"; do
  name=$(basename "$bin"); log="$logs/$name.log"
  if [ ! -x "$bin" ]; then
    echo "FAIL unit $name: binary missing ($bin)"; fail=$((fail + 1)); record fail "unit:$name"; continue
  fi
  start=$(date +%s)
  CMOCKA_MESSAGE_OUTPUT=STDOUT timeout -k 5 "$tmo" "$bin" > "$log" 2>&1; rc=$?
  secs=$(( $(date +%s) - start ))
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END{print s+0}')
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END{print s+0}')
  if [ "$p" = 0 ] && [ "$f" = 0 ]; then
    f=1   # no cmocka summary: crashed, hung or not a cmocka binary
  elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
    f=1   # summary says passed but the binary failed afterwards (crash at exit, timeout)
  fi
  pass=$((pass + p)); fail=$((fail + f))
  for c in $(sed -n 's/^\[       OK \] //p' "$log"); do record pass "unit:$name:$c"; done
  for c in $(sed -n 's/^\[  FAILED  \] \([A-Za-z_][A-Za-z0-9_]*\)$/\1/p' "$log"); do record fail "unit:$name:$c"; done
  if [ "$f" != 0 ]; then
    cases=$(grep -c '^\[  FAILED  \] [A-Za-z_]' "$log")
    [ "$cases" -lt "$f" ] && for _ in $(seq $((f - cases))); do record fail "unit:$name(rc=$rc)"; done
    echo "FAIL unit $name: $p passed, $f failed, rc=$rc (${secs}s) — $log"
    grep -a -E '^\[  (FAILED|ERROR)|[Ff]ailure|error:|ERROR' "$log" | head -n 10 | sed 's/^/    /'
  else
    echo "ok   unit $name: $p passed (${secs}s)"
  fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" = 0 ]

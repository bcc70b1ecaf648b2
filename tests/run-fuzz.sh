#!/usr/bin/env bash
# Bounded libFuzzer runs. Each target runs SECONDS seconds on a persistent corpus
# build/fuzz-corpus/<name>/ seeded from tests/fuzz/corpus/<name>/ (if present); crash
# inputs go to build/fuzz-artifacts/<name>/. A target passes when libFuzzer exits 0
# (no crash, leak, timeout or sanitizer report). Logs: build/test-logs/fuzz/<name>.log.
# Usage: tests/run-fuzz.sh SECONDS TARGET_BINARY...   (FUZZ_JOBS targets at a time, default 2)
# With HV_RESULTS=FILE, appends "pass|fail fuzz:<name>".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SECONDS TARGET..." >&2; exit 2; }
secs=$1; shift
case $secs in ''|*[!0-9]*) echo "run-fuzz: SECONDS must be a number" >&2; exit 2 ;; esac
logs="$top/build/test-logs/fuzz"; mkdir -p "$logs"
pass=0 fail=0
record() { [ -n "${HV_RESULTS:-}" ] && echo "$1 $2" >> "$HV_RESULTS"; return 0; }
if [ $# -eq 0 ]; then
  echo "fuzz: no fuzz targets given (FUZZ_TARGETS is empty)" >&2
  record fail fuzz:none; echo "fuzz: 0 passed, 1 failed"; exit 1
fi
# fuzz_one BIN: run one target; its report line(s) go to $state/<name>.out, its verdict to .ok/.fail
fuzz_one() {
  local bin=$1 name log corpus art rc runs seeds=()
  name=$(basename "$bin"); log="$logs/$name.log"
  corpus="$top/build/fuzz-corpus/$name"; art="$top/build/fuzz-artifacts/$name/"
  mkdir -p "$corpus" "$art"
  [ -d "$top/tests/fuzz/corpus/$name" ] && seeds=("$top/tests/fuzz/corpus/$name")
  if [ ! -x "$bin" ]; then
    echo "FAIL fuzz $name: binary missing ($bin)" > "$state/$name.out"; : > "$state/$name.fail"; return
  fi
  timeout -k 10 $((secs + 120)) nice -n 5 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$art" "$corpus" ${seeds[@]+"${seeds[@]}"} > "$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  if [ "$rc" = 0 ] && [ -n "$runs" ]; then
    echo "ok   fuzz $name: ${runs} execs in ${secs}s, corpus $(ls "$corpus" | wc -l) inputs" > "$state/$name.out"
    : > "$state/$name.ok"
  else
    { echo "FAIL fuzz $name: rc=$rc — $log (artifacts in $art)"
      grep -a -E 'ERROR:|SUMMARY:|Test unit written|runtime error' "$log" | head -n 8 | sed 's/^/    /'
    } > "$state/$name.out"
    : > "$state/$name.fail"
  fi
}

# FUZZ_JOBS targets at a time (default 2, the CI machine's cores); reports in the given order
jobs=${FUZZ_JOBS:-2}
case $jobs in ''|*[!0-9]*|0) echo "run-fuzz: FUZZ_JOBS must be a positive integer" >&2; exit 2 ;; esac
state=$(mktemp -d); trap 'rm -rf "$state"' EXIT
for bin in "$@"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n 2>/dev/null || true; done
  fuzz_one "$bin" &
done
wait
for bin in "$@"; do
  name=$(basename "$bin")
  cat "$state/$name.out" 2>/dev/null || echo "FAIL fuzz $name: no report"
  if [ -f "$state/$name.ok" ]; then pass=$((pass + 1)); record pass "fuzz:$name"
  else fail=$((fail + 1)); record fail "fuzz:$name"; fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" = 0 ]

#!/usr/bin/env bash
# The whole test suite (what `make test` and .ci/run execute):
#   1. build: hvmon.elf + host tools (make all), the newlib link test
#   2. host unit tests (cmocka)                    tests/run-unit.sh
#   3. bounded fuzzing (FUZZ_SECONDS per target)   tests/run-fuzz.sh
#   4. integration scenarios, two at a time        tests/run-integration.sh (INTEGRATION_JOBS)
# Every stage runs even when an earlier one failed (a build failure fails the stages that need
# it). The last line printed is exactly "N passed, N failed" (", N skipped" when any) and the
# exit status is non-zero when anything failed. A missing prerequisite is a failure.
# Env: FUZZ_SECONDS (default 10), UNIT_TIMEOUT, INTEGRATION_TIMEOUT, INTEGRATION_JOBS and FUZZ_JOBS
#      (default 2 each), JOBS (make -j, default 2),
#      HV_STAGES (default "build unit fuzz integration").
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
mkdir -p build/test-logs
export HV_RESULTS="$top/build/test-results.txt"
: > "$HV_RESULTS"
jobs=${JOBS:-2}
stages=${HV_STAGES:-build unit fuzz integration}
MAKE=(make --no-print-directory -s -j"$jobs")
suite_start=$(date +%s)

stage() { echo; echo "=== $* ($(date -u +%H:%M:%S))"; }
# run_stage NAME CMD...: a stage whose runner records its own results; when the command fails
# without recording anything (e.g. a compile error before the runner started), record the stage.
run_stage() {
  local name=$1; shift
  local before; before=$(wc -l < "$HV_RESULTS")
  "$@"; local rc=$?
  if [ "$rc" != 0 ] && [ "$(wc -l < "$HV_RESULTS")" = "$before" ]; then
    echo "fail $name(rc=$rc, nothing ran: see output above)" >> "$HV_RESULTS"
  fi
}

for s in $stages; do
  case $s in
    build)
      stage "build"
      if "${MAKE[@]}" all > build/test-logs/build.log 2>&1; then
        echo "pass build:all" >> "$HV_RESULTS"; echo "ok   build (make all)"
      else
        echo "fail build:all" >> "$HV_RESULTS"; echo "FAIL build (make all) — build/test-logs/build.log"
        grep -a -E 'error|Error' build/test-logs/build.log | head -n 20 | sed 's/^/    /'
      fi
      if tools/build-newlib.sh --check > build/test-logs/newlib-check.log 2>&1; then
        echo "pass build:newlib-link" >> "$HV_RESULTS"; echo "ok   $(tail -n1 build/test-logs/newlib-check.log)"
      else
        echo "fail build:newlib-link" >> "$HV_RESULTS"; echo "FAIL newlib link test:"; sed 's/^/    /' build/test-logs/newlib-check.log
      fi ;;
    unit) stage "unit tests"; run_stage unit "${MAKE[@]}" test-unit ;;
    fuzz) stage "fuzzing (${FUZZ_SECONDS:-10}s per target)"
          run_stage fuzz "${MAKE[@]}" test-fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}" ;;
    integration) stage "integration scenarios"; run_stage integration "${MAKE[@]}" test-integration ;;
    *) echo "run-all: unknown stage '$s'"; echo "fail stage:$s" >> "$HV_RESULTS" ;;
  esac
done

pass=$(grep -c '^pass ' "$HV_RESULTS"); fail=$(grep -c '^fail ' "$HV_RESULTS"); skip=$(grep -c '^skip ' "$HV_RESULTS")
echo
echo "=== summary ($(( $(date +%s) - suite_start ))s; details in $HV_RESULTS, logs in build/test-logs/)"
grep -E '^(fail|skip) ' "$HV_RESULTS" | sed 's/^/  /'
if [ "$skip" != 0 ]; then
  echo "$pass passed, $fail failed, $skip skipped"
else
  echo "$pass passed, $fail failed"
fi
[ "$fail" = 0 ]

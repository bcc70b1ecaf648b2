#!/usr/bin/env bash
# Issue 17 (docs/SECURITY.md "Speculation hygiene"), not in make test: BARE boots (no hvmon) of
# the 6.1 cloud kernel on Bochs 2.7's models with IA32_SPEC_CTRL (corei7_icelake_u, tigerlake),
# with the guest module tests/guest/hvspec (SSBD written, read back after 1,000 CPUIDs). Tells a
# Bochs problem of the model from an hvmon one (tests/campaign/spec_icelake.sh is the hvmon boot).
# Usage: /work/lead/slot.sh tests/campaign/spec_bare.sh [MODEL...]
set -uo pipefail
: "${HV_TIMEOUT:=420}"
. "$(dirname "$0")/../bochs/lib.sh"
ko=$("$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/hvspec" | tail -1)
[ -f "$ko" ] || hv_fail "hvspec.ko did not build"
[ $# -gt 0 ] || set -- corei7_icelake_u tigerlake
# SPEC_GUEST_OPTS: extra guest kernel options (e.g. clearcpuid=515, see spec_icelake.sh)
: "${SPEC_GUEST_OPTS:=}"
fails=0
for model in "$@"; do
  hv_boot "spec-bare-$model" --bare --scenario boot --modules "$ko" --cpu-model "$model" \
    --cmdline "console=ttyS0,115200 panic=-1 loglevel=7 tsc_early_khz=200000 $SPEC_GUEST_OPTS" \
    --stop-on 'guest:reboot: Power down'
  g=$(tr -d '\000\r' < "$RUN_DIR/guest.log")
  echo "== $model: status $RUN_STATUS, $(sed -n 's/^seconds=//p' "$RUN_DIR/result") s"
  grep -a 'HVSPEC\|Spectre\|spectre\|x86/fpu\|XSAVE\|xstate\|Kernel panic\|BUG\|WARNING\|Oops\|invalid opcode\|traps:' <<<"$g" | head -40
  tail -5 <<<"$g"
  if grep -aq 'HVMON-GUEST: scenario boot exit=0' <<<"$g"; then echo "ok   - $model: bare boot reached userspace"
  else echo "FAIL - $model: bare boot did not reach userspace"; fails=$((fails + 1)); fi
done
[ $fails = 0 ] && hv_pass "bare boots: $*" || hv_fail "$fails bare boot(s) failed"

#!/usr/bin/env bash
# docs/MONITORS.md "ret2usr detector": ret2usr_action=halt in Bochs (guest with SMEP). One execuser attack: hvmon reports it,
# dumps the guest state and the exit statistics (final report), does not deliver the fault and stops
# the machine; under Bochs it ends the emulator through its shutdown port, so the run ends by itself
# (status exit, far below the harness timeout). The guest makes no progress after the attack: no oops,
# the attacking shell never returns, no later scenario marker, no guest power-off.
set -eu   # not pipefail: lib.sh greps with -q behind tr (SIGPIPE on big logs)
. "$(dirname "$0")/../bochs/lib.sh"
name=ret2usr-halt
HV_TIMEOUT=${HV_TIMEOUT_HALT:-300}
ko=$("$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/faultinj") || hv_fail "faultinj module build failed"
HV_GUEST_FATAL='Kernel panic|HVMON-GUEST: poweroff failed'
hv_boot "$name" --scenario ret2usr --modules "$ko" --hv-opts "console=com2 log=info ret2usr_action=halt bochs_exit=on" \
  --cmdline "console=ttyS0,115200 panic=-1 loglevel=7 fi_r2u=execuser,smepoff_exec"
assert_status exit          # ended by itself: not a marker, not the timeout
assert_marker hvmon 'ret2usr: on \(action halt\)' "ret2usr monitor on with action halt"
l=$(marker_value guest 'FAULTINJ: execuser exec user_addr=') || true
[ -n "$l" ] || hv_fail "execuser did not run"
addr=$(sed -E 's/.*user_addr=(0x[0-9a-f]+).*/\1/' <<<"$l"); pid=$(sed -E 's/.* pid=([0-9]+).*/\1/' <<<"$l")
assert_marker hvmon "kernel executed user address $addr .* in task $pid .*; action halt" "attack reported"
json_events hvmon ret2usr | grep -q "\"pid\":$pid.*\"user_addr\":\"$addr\"" || hv_fail "ret2usr event missing"
# final report: guest state + exit statistics + the halt line, in that order, and nothing after it
assert_marker hvmon '==== guest state \(vCPU 0\): ret2usr \(ret2usr_action=halt\) ====' "guest state dump"
assert_marker hvmon "^  RIP $(printf %016x "$addr") " "the dump shows the guest at the user address"
assert_marker hvmon 'exit statistics, vCPU 0' "exit statistics"
assert_marker hvmon 'hvmon: ret2usr: guest halted \(ret2usr_action=halt\)' "halt line"
last=$(tr -d '\000\r' < "$RUN_DIR/hvmon.log" | grep -av '^$' | tail -n 1)
grep -q 'ret2usr: guest halted' <<<"$last" || hv_fail "hvmon printed after the halt: $last"
assert_no_marker hvmon 'guest powered off|powering the machine off' "not a guest power-off"
# the guest made no progress after the attack
assert_no_marker guest 'Oops|FAULTINJ: execuser returned|HVMON-GUEST: attack execuser pid=' \
  "the guest never ran past the attack"
assert_no_marker guest 'HVMON-GUEST: attack smepoff_exec|alive after|scenario ret2usr exit|powering off' \
  "no later scenario marker"
lastg=$(tr -d '\000\r' < "$RUN_DIR/guest.log" | grep -a 'HVMON-GUEST:\|FAULTINJ:' | tail -n 1)
grep -q "FAULTINJ: execuser exec user_addr=$addr" <<<"$lastg" || hv_fail "guest output after the attack: $lastg"
secs=$(sed -n 's/^seconds=//p' "$RUN_DIR/result")
hv_pass "ret2usr_action=halt: attack by $pid reported, final report printed, guest stopped at $addr; Bochs ended by itself after ${secs}s"

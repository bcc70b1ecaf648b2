#!/usr/bin/env bash
# docs/MONITORS.md "ret2usr detector": ret2usr_action=kill in Bochs (guest with SMEP). Two attacks (execuser, smepoff_exec),
# each from its own shell: hvmon reports the attack, says it kills the writer, and delivers the #PF the
# CPU raised; the guest kernel's oops ends exactly that task (shell rc 137 = killed, it never printed
# "attacker survived"). A bystander process started before the attacks is still alive afterwards, and the
# guest goes on (later markers, clean power-off).
set -eu   # not pipefail: lib.sh greps with -q behind tr (SIGPIPE on big logs)
. "$(dirname "$0")/../bochs/lib.sh"
name=ret2usr-kill
ko=$("$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/faultinj") || hv_fail "faultinj module build failed"
HV_GUEST_FATAL='Kernel panic|HVMON-GUEST: poweroff failed'     # the oops is expected
hv_boot "$name" --scenario ret2usr --modules "$ko" --hv-opts "console=com2 log=info ret2usr_action=kill" \
  --cmdline "console=ttyS0,115200 panic=-1 loglevel=7 fi_r2u=execuser,smepoff_exec"
assert_status exit
assert_no_marker hvmon 'guest crashed|PANIC|EXCEPTION in ring -1' "no crash"
assert_marker hvmon 'ret2usr: on \(action kill\)' "ret2usr monitor on with action kill"
by=$(marker_value guest 'HVMON-GUEST: bystander pid=[0-9]+$' | sed -E 's/.*pid=([0-9]+).*/\1/')
[ -n "$by" ] || hv_fail "no bystander"
n=0
for t in execuser smepoff_exec; do
  l=$(marker_value guest "FAULTINJ: $t exec user_addr=") || true
  [ -n "$l" ] || hv_fail "$t did not run"
  addr=$(sed -E 's/.*user_addr=(0x[0-9a-f]+).*/\1/' <<<"$l"); pid=$(sed -E 's/.* pid=([0-9]+).*/\1/' <<<"$l")
  [ "$pid" != "$by" ] || hv_fail "$t: the bystander wrote the attack?"
  assert_marker hvmon "kernel executed user address $addr .* in task $pid .*; action kill" "$t reported (action kill)"
  assert_marker hvmon "ret2usr: kill: #PF \(error 0x[0-9a-f]+\) delivered to task $pid:" "$t: kill of task $pid"
  # the writer is the attacking shell the scenario started, and it was killed
  assert_marker guest "HVMON-GUEST: attack $t pid=$pid shell rc=137" "$t: the attacking shell $pid was killed (rc 137)"
  assert_no_marker guest "FAULTINJ: $t returned" "$t: the user page never ran in kernel mode"
  n=$((n+1))
done
assert_no_marker guest 'HVMON-GUEST: attacker survived' "no attacker survived its write"
[ "$(json_events hvmon ret2usr | wc -l)" = 2 ] || hv_fail "expected 2 ret2usr events"
assert_marker guest "HVMON-GUEST: bystander pid=$by alive" "the bystander survived both kills"
assert_marker guest 'HVMON-GUEST: alive after 2 attacks' "the guest goes on after the kills"
assert_marker guest 'HVMON-GUEST: scenario ret2usr exit=0' "scenario finished"
assert_marker hvmon 'ret2usr: 2 #PF exits .* 0 reflected, 2 ret2usr detected' "exactly the 2 attacks exited"
hv_pass "ret2usr_action=kill: both attacking shells killed (rc 137), bystander $by alive, guest ran on to power-off"

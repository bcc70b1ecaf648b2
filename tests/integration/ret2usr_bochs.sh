#!/usr/bin/env bash
# docs/MONITORS.md "ret2usr detector": the ret2usr detector in Bochs, guest WITH SMEP/SMAP (broadwell_ult).
# tests/guest/faultinj: (1) execuser: kernel mode calls into a user RWX page -> ret2usr event with
# the task, the user address and how it was caught; the guest kernel's oops ends only that task.
# (2) smepoff_exec: a raw MOV CR4 clearing SMEP -> cr4_tamper (blocked: the guest reads SMEP
# still set), then the user page executed -> ret2usr. The system keeps running afterwards.
# No ret2usr/cr4_tamper during boot (the first attack is the first event).
set -eu   # not pipefail: lib.sh greps with -q behind tr (SIGPIPE on big logs)
. "$(dirname "$0")/../bochs/lib.sh"
name=${R2U_NAME:-ret2usr-bochs}
ko=$("$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/faultinj") || hv_fail "faultinj module build failed"
HV_GUEST_FATAL='Kernel panic|HVMON-GUEST: poweroff failed'     # the oops is expected
hv_boot "$name" --scenario ret2usr --modules "$ko" \
  --hv-opts "console=com2 log=info ret2usr_action=${R2U_ACTION:-report}" \
  --cmdline "console=ttyS0,115200 panic=-1 loglevel=7 ${R2U_CMDLINE:-}"
assert_status exit marker
assert_no_marker hvmon 'guest crashed|PANIC|EXCEPTION in ring -1' "no crash"
assert_marker hvmon 'ret2usr: on \(action' "ret2usr monitor on"
# no event before the first attack: the first ret2usr line names the execuser address
assert_ret2usr_first_execuser
caught=${R2U_CAUGHT:-"the guest's SMEP"}
grep -qF "caught by $caught" <<<"$first" || hv_fail "caught by: $first"
# smepoff_exec: tamper blocked, guest still sees SMEP, then ret2usr
t=$(marker_value guest 'FAULTINJ: smepoff cr4') || hv_fail "smepoff_exec did not run"
if [ -z "${R2U_NOSMEP:-}" ]; then
  grep -q 'smep_after=1' <<<"$t" || hv_fail "CR4.SMEP cleared in the guest's view: $t"
  assert_marker hvmon 'ret2usr: cr4_tamper: MOV CR4 .* blocked' "cr4_tamper reported"
  json_events hvmon cr4_tamper | grep -q '"blocked":true' || hv_fail "cr4_tamper event missing"
else
  grep -q 'smep_after=0' <<<"$t" || hv_fail "nosmep guest: SMEP appeared in its view: $t"
  assert_no_marker hvmon 'ret2usr: cr4_tamper:' "nosmep: clearing a bit the guest never set is no tamper"
fi
ua2=$(marker_value guest 'FAULTINJ: smepoff_exec exec user_addr=' | sed -E 's/.*user_addr=(0x[0-9a-f]+) pid=([0-9]+).*/\1 \2/')
set -- $ua2
assert_marker hvmon "kernel executed user address $1 .* in task $2 " "smepoff_exec detected"
assert_no_marker guest 'FAULTINJ: smepoff_exec returned' "the user page did not run after the CR4 write"
n=$(json_events hvmon ret2usr | wc -l)
[ "$n" = 2 ] || hv_fail "expected 2 ret2usr events, got $n"
json_events hvmon ret2usr | sed -n 1p | grep -q "\"pid\":$pid.*\"user_addr\":\"$addr\".*\"how\":\"exec\"" \
  || hv_fail "ret2usr event fields: $(json_events hvmon ret2usr | sed -n 1p)"
assert_marker guest 'HVMON-GUEST: alive after 2 attacks' "guest alive after the attacks"
assert_marker guest 'HVMON-GUEST: scenario ret2usr exit=0' "scenario finished"
hv_pass "ret2usr detected for both attacks ($addr by $pid $comm), cr4_tamper handled, guest alive"

#!/usr/bin/env bash
# docs/TESTING.md "Several CPUs" (issue 11): the policy for a CPU that cannot be virtualized — it
# stops the boot, named, and the guest never runs. Bochs `cpu: count=2`; hvmon with the test option
# smp_fail_ap=1 (docs/OPTIONS.md): CPU 1 reports a VMXON failure at the bring-up rendezvous, as a CPU
# whose VMXON fails does (same path: ap_fail -> the boot CPU's refuse()). Checks: CPU 1's failure is
# named with its APIC id and reason, hvmon refuses to boot, no VM entry, the guest kernel never
# prints a line; Bochs ends through bochs_exit=on. A short boot (no guest: ~1 min of Bochs).
set -euo pipefail
. "$(dirname "$0")/../bochs/lib.sh"
name=core-ap-fail
HV_TIMEOUT=${HV_TIMEOUT:-300}
hv_boot "$name" --scenario boot --hv-opts "console=com2 log=info smp_fail_ap=1 bochs_exit=on" --cpus 2 \
  --stop-on 'hvmon:refusing to boot'
assert_status exit marker
assert_marker hvmon 'CPU0: VMX root operation' "the boot CPU in VMX root"
assert_marker hvmon 'smp: MADT lists 2 usable CPU' "the MADT lists both CPUs"
assert_marker hvmon 'CPU 1 \(APIC id 0x1\) cannot be virtualized: VMXON failed on it \(fault injected by smp_fail_ap=\)' \
  "CPU 1 named, with its APIC id and the reason"
assert_marker hvmon 'refusing to boot' "hvmon refuses to boot"
assert_no_marker hvmon 'smp: CPU1 \(APIC id 0x1\) in VMX root' "CPU 1 never reported ready"
assert_no_marker hvmon 'entering the guest' "no VM entry: the guest never runs"
assert_no_marker guest 'Linux version|HVMON-GUEST' "the guest kernel never ran"
hv_pass "2 CPUs, CPU 1 fails VMXON (smp_fail_ap=1): named, hvmon refuses to boot, the guest never runs"

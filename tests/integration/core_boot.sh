#!/usr/bin/env bash
# docs/TESTING.md (core boot): the guest reaches userspace under hvmon's VMX and powers off cleanly.
# Usage: tests/integration/core_boot.sh [cloud|generic|6.12]   (default cloud)
# Checks: hvmon banner + VMX root + EPT hides hvmon; guest userspace marker; KASLR on
# (no nokaslr, kernel text not at the default address); VMX hidden from the guest
# (cpuinfo-vmx no); ACPI power-off seen by hvmon with exit statistics; no EPT
# violation and no crash report during a normal boot.
set -euo pipefail
. "$(dirname "$0")/../bochs/lib.sh"
flavour=${1:-cloud}
name=core-boot-$flavour
hv_boot "$name" --flavour "$flavour" --scenario boot --hv-opts "console=com2 log=info"
assert_status exit marker
assert_marker hvmon '^hvmon [0-9.]+ - thin VT-x/EPT hypervisor' "hvmon banner"
assert_marker hvmon 'CPU0: VMX root operation' "VMXON"
assert_marker hvmon 'EPT: hvmon memory .* not mapped' "hvmon memory unmapped in EPT"
assert_marker hvmon 'iommu=auto: NO DMA REMAPPING \(no ACPI DMAR table\)' "iommu=auto says loudly that Bochs has no VT-d"
assert_marker hvmon 'entering the guest' "VM entry"
assert_marker guest 'HVMON-GUEST: userspace reached' "guest userspace"
assert_marker guest 'HVMON-GUEST: cpuinfo-vmx no' "VMX hidden from the guest"
assert_no_marker guest 'nokaslr' "KASLR must stay on"
assert_marker guest 'HVMON-GUEST: scenario boot exit=0' "boot scenario checks"
assert_marker hvmon 'guest wrote IA32_LSTAR' "LSTAR write observed"
assert_marker hvmon 'hvmon: guest powered off' "ACPI power-off trapped"
assert_marker hvmon 'exit statistics, vCPU 0: [1-9][0-9]* exits' "exit statistics"
assert_marker hvmon '^hvmon: +10 +CPUID +[1-9]' "CPUID exits counted"
assert_no_marker hvmon 'EPT violation: GPA' "no EPT violation report (access to unmapped memory) in a normal boot"
assert_no_marker hvmon 'guest crashed|PANIC|EXCEPTION in ring -1' "no crash"
stext=$(marker_value guest 'HVMON-GUEST: _stext' | awk '{print $3}')
[ -n "$stext" ] || hv_fail "guest did not report _stext"
[ "$stext" != ffffffff81000000 ] || hv_fail "_stext at the default address: KASLR did not randomize"
hv_pass "$flavour kernel: userspace under VMX, KASLR (_stext $stext), clean ACPI power-off with exit stats"

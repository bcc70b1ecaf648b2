#!/usr/bin/env bash
# docs/TESTING.md (core): a guest kernel module (tests/guest/hvtest, built against Debian's linux-headers of
# the test kernel) maps and reads a page of hvmon's memory -> it gets no hvmon bytes and hvmon
# reports the EPT violation; VMXON, CR4.VMXE and the VMX MSRs fail as on hardware without VMX.
set -euo pipefail
. "$(dirname "$0")/../bochs/lib.sh"
name=core-hvtest
ko=$("$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/hvtest") || hv_fail "hvtest module build failed"
initrd=$(hv_fixture_initrd hvtest -m "$ko" --no-load -o "$HV_TOP/build/initramfs/$name.cpio.gz") || exit 1
# hang_timeout=2: the TSC-rewind attack spins 3.5 s with interrupts off (a hard hang hvmon must see)
hv_boot "$name" --initrd "$initrd" --hv-opts "console=com2 log=info hang_timeout=2"
assert_status exit marker
# (the kernel's own line: the scenario's echo can be interleaved with kernel messages)
pa=$(marker_value guest 'HVTEST: probe=done pa=0x[0-9a-f]+' | sed -E 's/.*probe=done pa=(0x[0-9a-f]+).*/\1/')
[ -n "$pa" ] || hv_fail "the module did not probe a page (no hole found in the guest's memory map?)"
# The hole the guest probed must be hvmon's memory as hvmon reported it.
assert_marker hvmon "EPT: hvmon memory $pa-" "the probed hole ($pa) is hvmon's memory"
assert_marker guest 'HVTEST: cpuid_vmx=0' "CPUID.VMX hidden"
assert_marker guest 'HVTEST: vmx_msrs_gp=18 vmx_msrs_readable=0' "VMX MSRs #GP"
assert_marker guest 'HVTEST: feature_control_err=0 .*locked=1 vmx_enabled=0' "FEATURE_CONTROL locked, VMX off"
assert_marker guest 'HVTEST: cr4_set_vmxe_faulted=1 cr4_vmxe_after=0' "CR4.VMXE refused"
assert_marker guest 'HVTEST: vmxon_faulted=1' "VMXON faults"
assert_marker guest 'HVTEST: probe=done .* not_ff=0 hvmon_magic=0' "no hvmon bytes read"
assert_marker hvmon "EPT violation: GPA $pa linear 0x[0-9a-f]+ access r-- RIP 0x[0-9a-f]+ -> hvmon memory: access denied" \
  "EPT violation reported with GPA, linear address, access, RIP"
# issue 17 (docs/SECURITY.md "Hostile-guest suite"): sleep requests refused, the guest runs on, monitored
assert_marker hvmon 'ACPI sleep: S5 \(power-off\) is SLP_TYP 0/0; any other sleep state is refused' "S5 type from the DSDT"
assert_marker guest 'HVTEST: pm1=survived .*slp_en=0' "PM1a byte/word/dword S3 writes refused"
assert_marker guest 'HVMON-GUEST: hvtest s3 rc=0 alive' "echo mem: the guest resumed at once"
assert_marker hvmon '"event":"denied".*"what":"sleep","reg":"0xb005"' "denied event for the byte write to PM1a_CNT+1"
assert_marker hvmon '"event":"denied".*"what":"sleep".*"count":4' "denied event for the kernel's own S3 (4th request)"
assert_marker hvmon '^hvmon: denied requests, vCPU 0: sleep 4 ' "4 sleep requests refused in all"
assert_marker hvmon '"event":"exec".*hvtest-after-s3' "exec after the refused S3 traced"
assert_marker guest 'HVTEST: apic_base_move_refused=1 moved=0' "APIC_BASE move onto hvmon's memory refused"
assert_marker hvmon '"event":"denied".*"what":"msr_write","reg":"0x1b"' "denied event: APIC_BASE"
assert_marker guest 'HVTEST: pt_ds_pebs_refused=5/5' "PT, DS_AREA, PEBS_ENABLE writes refused"
for m in 0x560 0x561 0x570 0x600 0x3f1; do
  assert_marker hvmon "\"event\":\"denied\".*\"what\":\"msr_write\",\"reg\":\"$m\"" "denied event: MSR $m"
done
assert_marker guest 'HVTEST: xcr0_bad_refused=14/14 xcr0_unchanged=1' "14 bad XCR0/XCR values #GP in the guest"
assert_marker hvmon '"event":"denied".*"what":"xcr0"' "denied event: XCR0"
assert_marker guest 'HVTEST: vmx_storm_ud=2000/2000' "VMX storm: 2000 x #UD"
assert_marker guest 'HVTEST: cpuid_monitor=0 monitor_faulted=1' "MONITOR/MWAIT hidden and #UD"
assert_marker hvmon '^hvmon: speculation: CPU0: ' "speculation hygiene mode chosen"
assert_marker hvmon '^hvmon: denied requests, vCPU 0: .*xcr0 14 vmx 2001 mmio 0' "denied totals: 14 XSETBV, 2001 VMX, no MMIO refusal"
assert_marker hvmon '^hvmon: EPT: above RAM 0x100000000-' "MMIO above RAM mapped at boot"
assert_marker guest 'HVTEST: mmio_pages=10000/10000' "10,000 distinct MMIO pages touched"
assert_no_marker hvmon 'EPT violation: GPA 0x[2-9a-f][0-9a-f]{8}' "no EPT violation above 4 GiB"
assert_marker guest 'HVTEST: tsc_rewind err=0 rewound=1' "guest TSC rewound (offset)"
assert_marker hvmon '"event":"hang",' "hang detected while the guest's TSC was rewound"
assert_marker guest 'HVMON-GUEST: scenario hvtest exit=0' "hvtest scenario checks"
assert_marker hvmon 'hvmon: guest powered off' "clean power-off"
assert_marker hvmon '^hvmon: +27 +VMXON +1001 ' "VMXON exits counted (1 + the storm's 1000)"
assert_no_marker hvmon 'guest crashed|PANIC|EXCEPTION in ring -1' "no crash"
hv_pass "hvmon memory at $pa unreadable (EPT violation reported), VMX invisible to the guest"

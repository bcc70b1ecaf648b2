#!/usr/bin/env bash
# docs/TESTING.md (core): a guest triple fault (tests/guest/hvtest with triple_fault=1) -> hvmon prints the
# full guest state and the exit statistics, then halts (on_guest_crash=halt).
set -euo pipefail
. "$(dirname "$0")/../bochs/lib.sh"
name=core-crash
ko=$("$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/hvtest") || hv_fail "hvtest module build failed"
initrd=$(hv_fixture_initrd hvcrash -m "$ko" --no-load -o "$HV_TOP/build/initramfs/$name.cpio.gz") || exit 1
hv_boot "$name" --initrd "$initrd" --hv-opts "console=com2 log=info on_guest_crash=halt" \
  --stop-on 'hvmon:guest crashed .* halting'
assert_marker guest 'HVTEST: triple fault now' "the module triggered the triple fault"
assert_no_marker guest 'survived the triple fault|still alive after' "the guest must not continue"
assert_marker hvmon '==== guest state \(vCPU 0\): guest triple fault ====' "guest state dump"
assert_marker hvmon 'exit reason 0x2 \(triple fault\)' "exit reason in the dump"
assert_marker hvmon '^  RIP ffffffff[0-9a-f]+ RSP [0-9a-f]+ RFLAGS' "guest registers in the dump"
assert_marker hvmon '^  CS   sel 0010 ' "guest segments in the dump"
assert_marker hvmon '^  GDTR [0-9a-f]+/[0-9a-f]+ IDTR 0000000000000000/0000' "the empty IDT is visible"
assert_marker hvmon 'exit statistics, vCPU 0' "exit statistics on crash"
assert_marker hvmon 'guest crashed \(guest triple fault\): halting \(on_guest_crash=halt\)' "halt per on_guest_crash"
hv_pass "guest triple fault: state dumped, statistics printed, halted"

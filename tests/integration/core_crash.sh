#!/usr/bin/env bash
# docs/TESTING.md (core): a guest triple fault (tests/guest/hvtest with triple_fault=1) -> hvmon prints the
# full guest state and the exit statistics, then halts (on_guest_crash=halt).
# Issue 11: with 2 CPUs, from CPU 1: one report (CPU 0 is stopped first, then CPU 1 reports).
set -euo pipefail
. "$(dirname "$0")/../bochs/lib.sh"
name=core-crash
ko=$("$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/hvtest" | grep '/hvtest\.ko$') || hv_fail "hvtest module build failed"
initrd=$(hv_fixture_initrd hvcrash -m "$ko" --no-load -o "$HV_TOP/build/initramfs/$name.cpio.gz") || exit 1
hv_boot "$name" --initrd "$initrd" --hv-opts "console=com2 log=info on_guest_crash=halt" \
  --stop-on 'hvmon:guest crashed .* halting' --cpus 2
assert_marker guest 'HVTEST: triple fault now' "the module triggered the triple fault"
assert_no_marker guest 'survived the triple fault|still alive after' "the guest must not continue"
assert_marker guest 'HVTEST: start cpu=1' "the module ran on CPU 1"
assert_marker hvmon '==== guest state \(vCPU 1\): guest triple fault ====' "guest state dump of the failing vCPU 1"
[ "$(grep -ac '==== guest state' "$RUN_DIR/hvmon.log")" = 1 ] || hv_fail "more than one guest state dump"
[ "$(grep -ac 'exit statistics, vCPU 0' "$RUN_DIR/hvmon.log")" = 1 ] || hv_fail "not exactly one report"
assert_marker hvmon 'exit statistics, vCPU 1' "statistics of both vCPUs in the one report"
assert_no_marker hvmon 'did not answer the stop' "CPU 0 stopped before the report"
assert_marker hvmon 'exit reason 0x2 \(triple fault\)' "exit reason in the dump"
assert_marker hvmon '^  RIP ffffffff[0-9a-f]+ RSP [0-9a-f]+ RFLAGS' "guest registers in the dump"
assert_marker hvmon '^  CS   sel 0010 ' "guest segments in the dump"
assert_marker hvmon '^  GDTR [0-9a-f]+/[0-9a-f]+ IDTR 0000000000000000/0000' "the empty IDT is visible"
assert_marker hvmon 'exit statistics, vCPU 0' "exit statistics on crash"
assert_marker hvmon 'guest crashed \(guest triple fault\): halting \(on_guest_crash=halt\)' "halt per on_guest_crash"
hv_pass "guest triple fault on CPU 1 of 2: every CPU stopped, one report (state of vCPU 1, statistics), halted"

#!/usr/bin/env bash
# docs/TRACER.md: ring -1 probes + the process tracer, in Bochs, against the pinned cloud kernel
# (KASLR on). The guest runs tests/guest/tracer/tracer-work (static, in the initramfs),
# which performs a known script (6 distinct programs, a pipeline, an exec of a path with
# spaces and 20 long arguments, a failing exec (ENOENT), an exit with code 42, 3 threads
# (clone3 with CLONE_THREAD), a burst of 8 forks, a child killed by SIGKILL, a child killed
# by SIGSEGV, a 4-thread process ended by exit_group from its main thread, a thread ending
# with SYS_exit(7)) and prints its own record of it.
# Requires:
#   - every `exec`/`fork`/`exit` event of the workload's process tree on hvmon's console
#     matches the record one to one (tests/integration/tracer_compare.py: nothing missing,
#     nothing invented, one exit per task; argv compared after the tracer's documented
#     truncation; exits with code, signal and core flag);
#   - the guest reading the probed kernel functions through /proc/kcore sees the original
#     bytes (no 0xcc) while those probes demonstrably fire (hits > 0 in hvmon's stats);
#   - no probe dropped, no event dropped, no lost syscall result; the guest powered off.
# Usage: tests/integration/tracer_bochs.sh [cloud|generic|6.12]   (default cloud)
set -euo pipefail
. "$(dirname "$0")/../bochs/lib.sh"
flavour=${1:-cloud}
[ -f "$HV_TOP/build/hvmon.elf" ] || hv_fail "build/hvmon.elf missing (make)"
make -s -C "$HV_TOP" build/tests/guest/tracer-work >/dev/null || hv_fail "cannot build tracer-work"
name=tracer-$flavour
initrd=$(hv_fixture_initrd tracer -m "$HV_TOP/build/tests/guest/tracer-work" --no-load \
  -o "$HV_TOP/build/initramfs/$name.cpio.gz") || exit 1
for _ in $(seq 1 120); do [ "$(pgrep -c bochs-bin || true)" -lt 2 ] && break; sleep 5; done
hv_boot "$name" --flavour "$flavour" --initrd "$initrd" --hv-opts "console=com2 log=info monitors=tracer"
assert_status exit marker
assert_marker hvmon 'hvmon: monitor proctrace: on' "tracer on"
assert_marker hvmon 'proctrace: 7 of 7 probes placed \(exit events from do_exit\)' "all 7 probes placed (6 syscall handlers + do_exit)"
assert_marker guest 'HVMON-GUEST: tracer-work done' "workload finished"
assert_marker guest 'HVMON-GUEST: scenario tracer exit=0' "scenario passed"
assert_marker hvmon 'hvmon: guest powered off' "clean power-off"
assert_no_marker hvmon 'guest crashed|PANIC|EXCEPTION in ring -1' "no crash"
assert_marker hvmon 'probes followed a rewrite, 0 dropped' "no probe dropped"
assert_marker hvmon 'hvmon: events: [0-9]+ committed, [0-9]+ delivered, 0 dropped' "no event dropped"
assert_marker hvmon 'proctrace: [0-9]+ events, 0 syscall results lost' "no lost syscall result"

python3 "$HV_TOP/tests/integration/tracer_compare.py" "$RUN_DIR/hvmon.log" "$RUN_DIR/guest.log" \
  || hv_fail "tracer events do not match the workload's record"

# invisibility: /proc/kcore bytes vs live probes at the same addresses
n=0
while read -r _ sym addr bytes; do
  [ -n "$bytes" ] || hv_fail "guest could not read $sym through /proc/kcore"
  case $bytes in cc*) hv_fail "guest sees an int3 at $sym ($addr: $bytes)";; esac
  hits=$(tr -d '\000\r' < "$RUN_DIR/hvmon.log" | sed -n "s/^hvmon: probe 0x$addr ([^)]*): \([0-9]*\) hits.*/\1/p")
  [ -n "$hits" ] && [ "$hits" -gt 0 ] || hv_fail "no live probe with hits at $sym ($addr)"
  echo "$sym at $addr: guest reads $bytes; probe hits $hits"
  n=$((n + 1))
done < <(tr -d '\000\r' < "$RUN_DIR/guest.log" | grep -a 'HVMON-GUEST: KTEXT ' | sed 's/^.*HVMON-GUEST: //')
[ "$n" = 3 ] || hv_fail "expected 3 KTEXT lines, got $n"
hv_pass "tracer events match the workload's record; probed pages read back original bytes ($flavour)"

#!/usr/bin/env bash
# Measurement (not a pass/fail test; docs/BENCHMARKS.md "Probes and tracer"): the guest
# microbenchmarks of tests/guest/scenarios/tracer-bench.sh (a getppid() syscall loop, a
# fork+exec(/bin/true)+wait loop) with the tracer off (monitors=none) and on
# (monitors=tracer), on the pinned cloud kernel in Bochs. Prints, per mode, the guest's TSC
# per operation (Bochs' TSC follows the instruction count, ring -1 included), hvmon's exits
# by reason and the per-probe hits and ring -1 TSC ticks per hit.
# Usage: tests/integration/tracer_bench.sh
set -euo pipefail
. "$(dirname "$0")/../bochs/lib.sh"
ns=20000; nf=100   # tests/guest/scenarios/tracer-bench.sh
make -s -C "$HV_TOP" build/tests/guest/tracer-work >/dev/null
initrd=$(hv_fixture_initrd tracer-bench -m "$HV_TOP/build/tests/guest/tracer-work" --no-load \
  -o "$HV_TOP/build/initramfs/tracer-bench.cpio.gz") || exit 1
for mode in none tracer; do
  hv_boot "tracer-bench-$mode" --initrd "$initrd" \
    --hv-opts "console=com2 log=info monitors=$mode"
  assert_marker hvmon 'hvmon: guest powered off' "clean power-off"
  echo "== monitors=$mode (syscalls $ns, fork+exec+wait $nf)"
  tr -d '\000\r' < "$RUN_DIR/guest.log" | grep -a 'HVMON-GUEST: BENCH' | sed 's/^.*HVMON-GUEST: //'
  tr -d '\000\r' < "$RUN_DIR/hvmon.log" | grep -a -E '^hvmon: (exit statistics|  +[0-9]+ |probes:|probe 0x|events:|proctrace:)'
done

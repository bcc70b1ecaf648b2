#!/usr/bin/env bash
# Measurement (not a pass/fail test; docs/BENCHMARKS.md "Probes and tracer"): the guest
# microbenchmarks of tests/guest/scenarios/tracer-bench.sh (a getppid() syscall loop, a
# fork+exec(/bin/true)+wait loop) with the tracer off (monitors=none) and on
# (monitors=tracer), on the pinned cloud kernel in Bochs. Prints, per mode, the guest's TSC
# per operation (Bochs' TSC follows the instruction count, ring -1 included), hvmon's exits
# by reason and the per-probe hits and ring -1 TSC ticks per hit.
# Modes (TRACER_BENCH_MODES, default "none tracer tracer-net"), all with default options:
#   none        monitors=none
#   tracer      monitors=tracer, no collector: the console echoes every event (console_events
#               default without collector= is all)
#   tracer-net  monitors=tracer, collector= set (hvmon's e1000 + slirp -> hvmon-collect on
#               127.0.0.1; console_events default with a collector is none): also compares the
#               collector's exec/fork/exit events with the number hvmon made (one to one)
# Usage: tests/integration/tracer_bench.sh
set -euo pipefail
. "$(dirname "$0")/../bochs/lib.sh"
ns=20000; nf=100   # tests/guest/scenarios/tracer-bench.sh
MODES=${TRACER_BENCH_MODES:-none tracer tracer-net}
make -s -C "$HV_TOP" build/tests/guest/tracer-work >/dev/null
initrd=$(hv_fixture_initrd tracer-bench -m "$HV_TOP/build/tests/guest/tracer-work" --no-load \
  -o "$HV_TOP/build/initramfs/tracer-bench.cpio.gz") || exit 1
report() {
  tr -d '\000\r' < "$RUN_DIR/guest.log" | grep -a 'HVMON-GUEST: BENCH' | sed 's/^.*HVMON-GUEST: //'
  tr -d '\000\r' < "$RUN_DIR/hvmon.log" |
    grep -a -E '^hvmon: (exit statistics|  +[0-9]+ |probes:|probe 0x|events:|console:|proctrace:|net: (wire|[0-9]+ ticks))'
}
for mode in $MODES; do
  case $mode in
  none|tracer)
    hv_boot "tracer-bench-$mode" --initrd "$initrd" \
      --hv-opts "console=com2 log=info monitors=$mode"
    assert_marker hvmon 'hvmon: guest powered off' "clean power-off"
    echo "== monitors=$mode (syscalls $ns, fork+exec+wait $nf)"
    report ;;
  tracer-net)
    [ -x "$HV_TOP/build/tools/hvmon-collect" ] || make -s -C "$HV_TOP" build/tools/hvmon-collect >/dev/null
    hv_start_collector --timeout 1800 --silence 100000
    T=$HV_COL_DIR
    hv_boot "tracer-bench-net" --initrd "$initrd" \
      --hv-opts "console=com2 log=info monitors=tracer $HV_COL_OPTS" \
      --extra 'pci: enabled=1, chipset=i440fx' \
      --extra 'e1000: card=0, enabled=1, mac=52:54:00:12:34:56, ethmod=slirp'
    sleep 2
    hv_stop_collector
    assert_marker hvmon 'hvmon: guest powered off' "clean power-off"
    echo "== monitors=tracer, collector= (syscalls $ns, fork+exec+wait $nf)"
    report
    sed -n 's/.*summary: /collector: /p' "$T/err"
    made=$(tr -d '\000\r' < "$RUN_DIR/hvmon.log" | sed -n 's/^hvmon: proctrace: \([0-9]*\) events.*/\1/p')
    got=$(grep -c '"event":"\(exec\|fork\|exit\)"' "$T/out" || true)
    drops=$(grep -c '"event":"drops"' "$T/out" || true)
    echo "collector: $got exec/fork/exit events received, hvmon made ${made:-?}; $drops drops events" ;;
  *) hv_fail "unknown mode $mode" ;;
  esac
done

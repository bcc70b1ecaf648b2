#!/usr/bin/env bash
# Idle cost of the keylogger detector (docs/BENCHMARKS.md "Keylogger"): two boots of the pinned cloud
# kernel with the "keylogger" scenario reduced to an idle guest phase of IDLE guest seconds (default 30), no key
# typed: monitors=none vs monitors=keylogger. Prints, per boot, guest seconds, total exits, I/O exits,
# preemption-timer exits and exits per guest second (from hvmon's power-off statistics).
# Usage: tests/guest/keylogger/idle_bench.sh [IDLE]
set -eu
. "$(dirname "$0")/../../bochs/lib.sh"
IDLE=${1:-30}
make -s -C "$HV_TOP" build/hvmon.elf build/tests/guest/hvkeylog >/dev/null || hv_fail "cannot build hvmon.elf / hvkeylog"
initrd=$(hv_fixture_initrd keylogger -m "$HV_TOP/build/tests/guest/hvkeylog" -k evdev --kernel cloud --no-load \
  -o "$HV_TOP/build/initramfs/keylogger.cpio.gz") || exit 1
for mon in none keylogger; do
  hv_boot "kl-idle-$mon" --initrd "$initrd" --hv-opts "console=com2 log=info monitors=$mon" \
    --cmdline "console=ttyS0,115200 panic=-1 loglevel=4 kl_keys=0 kl_idle=$IDLE" >/dev/null 2>&1 || true
  assert_marker hvmon 'hvmon: guest powered off' "kl-idle-$mon: clean power-off"
  log=$(tr -d '\000\r' < "$RUN_DIR/hvmon.log")
  tsc=$(sed -n 's/.*exit statistics, vCPU 0: \([0-9]*\) exits, [0-9]* TSC ticks in ring -1 handlers, \([0-9]*\) TSC ticks since.*/\1 \2/p' <<<"$log")
  khz=$(sed -n 's/.*tick: TSC \([0-9]*\) kHz.*/\1/p' <<<"$log" | head -n1)
  io=$(sed -n 's/^hvmon: *30 *I\/O *\([0-9]*\) .*/\1/p' <<<"$log")
  tm=$(sed -n 's/^hvmon: *52 *preemption timer *\([0-9]*\) .*/\1/p' <<<"$log")
  set -- $tsc
  secs=$(awk -v t="$2" -v k="$khz" 'BEGIN{printf "%.1f", t/k/1000}')
  rate=$(awk -v e="$1" -v s="$secs" 'BEGIN{printf "%.1f", e/s}')
  echo "monitors=$mon: $secs guest s, $1 exits ($rate/s), I/O ${io:-0}, preemption timer ${tm:-0}"
  grep -a 'hvmon: keylogger: i8042' <<<"$log" || true
done

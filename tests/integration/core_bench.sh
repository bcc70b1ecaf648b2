#!/usr/bin/env bash
# Measurement (not a pass/fail test): docs/BENCHMARKS.md "Foundation".
# Boots the same kernel + initramfs (boot scenario) bare and under hvmon, RUNS times each, and
# prints: guest uptime at userspace (guest seconds, from the guest's /proc/uptime), Bochs wall
# seconds to the userspace marker, their hvmon/bare ratios, hvmon's image size and reserved
# memory, and the exit statistics (count, TSC ticks per reason) of the last hvmon run.
# Usage: tests/integration/core_bench.sh [cloud|generic|6.12] [RUNS]
set -euo pipefail
. "$(dirname "$0")/../bochs/lib.sh"
flavour=${1:-cloud}; runs=${2:-1}
kernel=$(hv_fixture_kernel "$flavour")
initrd=$(hv_fixture_initrd boot -o "$HV_TOP/build/initramfs/bench.cpio.gz")
for mode in bare hvmon; do
  args=(--kernel "$kernel" --initrd "$initrd")
  [ $mode = bare ] && args+=(--bare)
  iso=$(hv_iso "bench-$mode" "${args[@]}")
  for i in $(seq 1 "$runs"); do
    start=$(date +%s.%N)
    hv_run "bench-$mode-$i" --iso "$iso" --timeout "$HV_TIMEOUT" \
      --stop-on 'guest:HVMON-GUEST: userspace reached' --fail-on "guest:$HV_GUEST_FATAL"
    end=$(date +%s.%N)
    [ "$RUN_STATUS" = marker ] || hv_fail "$mode run $i did not reach userspace ($RUN_STATUS)"
    up=$(marker_value guest 'HVMON-GUEST: userspace reached' | sed 's/.*uptime=//')
    wall=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}')
    echo "$mode run=$i uptime=$up wall=$wall"
  done
done | tee "$HV_TOP/build/bench-foundation.txt"
awk '{for(i=2;i<=NF;i++){split($i,kv,"=");v[$1,kv[1]]+=kv[2]};n[$1]++}
     END{ub=v["bare","uptime"]/n["bare"]; uh=v["hvmon","uptime"]/n["hvmon"];
         wb=v["bare","wall"]/n["bare"]; wh=v["hvmon","wall"]/n["hvmon"];
         printf "mean guest uptime at userspace: bare %.2f s, hvmon %.2f s, ratio %.3f\n", ub, uh, uh/ub;
         printf "mean Bochs wall time to userspace: bare %.1f s, hvmon %.1f s, ratio %.3f\n", wb, wh, wh/wb}' \
  "$HV_TOP/build/bench-foundation.txt"
echo "hvmon.elf: $(stat -c %s "$HV_TOP/build/hvmon.elf") bytes on disk; $(size "$HV_TOP/build/hvmon.elf" | tail -1 | awk '{printf "text %d, data %d, bss+heap %d", $1, $2, $3}')"
tr -d '\r\000' < "$HV_TOP/build/runs/bench-hvmon-$runs/hvmon.log" | grep -a 'hvmon reserves'

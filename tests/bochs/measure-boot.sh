#!/usr/bin/env bash
# Measure wall-clock time from Bochs start to guest userspace (the /init marker
# "HVMON-GUEST: userspace reached") for each given kernel, with or without hvmon.
# Bochs is stopped as soon as the marker appears; the guest's own uptime at that point is printed
# too. Prints one markdown table row per kernel.
# Usage: tests/bochs/measure-boot.sh [--bare] [--runs N] [--cpus N] KERNEL_ALIAS...
#        (aliases as in tests/fixtures.sh: cloud, generic, 6.12)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bare="" runs=1 cpus=1 kernels=()
while [ $# -gt 0 ]; do
  case $1 in
    --bare) bare=--bare; shift ;;
    --runs) runs=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    *) kernels+=("$1"); shift ;;
  esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=(cloud)
mode=$([ -n "$bare" ] && echo bare || echo hvmon)
initrd=$("$top/tests/fixtures.sh" initramfs -s boot -o "$top/build/initramfs/measure.cpio.gz")
echo "| kernel | mode | CPUs | wall s to userspace (each run) | guest uptime s at userspace |"
echo "|---|---|---|---|---|"
for k in "${kernels[@]}"; do
  kernel=$("$top/tests/fixtures.sh" kernel "$k")
  pkg=$(basename "$(dirname "$(dirname "$kernel")")")
  iso="$top/build/iso/measure-$mode-$k.iso"
  "$here/mkiso.sh" -o "$iso" --kernel "$kernel" --initrd "$initrd" $bare >/dev/null
  walls="" ups=""
  for i in $(seq "$runs"); do
    name="measure-$mode-$k-$i"
    "$here/run.sh" --name "$name" --iso "$iso" --cpus "$cpus" --timeout 900 --quiet \
      --stop-on 'guest:HVMON-GUEST: userspace reached' --fail-on 'guest:Kernel panic' || true
    res="$top/build/runs/$name/result"
    if grep -q '^status=marker' "$res"; then
      walls="$walls $(sed -n 's/^seconds=//p' "$res")"
      ups="$ups $(tr -d '\r' < "$top/build/runs/$name/guest.log" | sed -n 's/.*userspace reached uptime=\([0-9.]*\).*/\1/p' | head -n1)"
    else
      walls="$walls FAIL($(sed -n 's/^status=//p' "$res"))"
    fi
  done
  echo "| $pkg | $mode | $cpus |$walls |$ups |"
done

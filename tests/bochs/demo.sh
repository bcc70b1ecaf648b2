#!/usr/bin/env bash
# `make run` / `make test-boot`: boot hvmon + a guest in Bochs (headless) and show hvmon's console
# (COM2, prefixed "hvmon|") and the guest's console (COM1, prefixed "guest|") live on the terminal.
# Usage: tests/bochs/demo.sh [--check] [--scenario NAME] [--kernel BZIMAGE] [--initrd INITRD]
#                            [--bare] [--timeout S] [--name RUN]
#   --check   (make test-boot) fail unless the guest reached userspace and powered off cleanly
# Env: KERNEL, INITRD (make test-boot KERNEL=... INITRD=...), HV_OPTS, GUEST_CMDLINE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
check=0 scenario=demo name=demo bare="" timeout_s=900
kernel=${KERNEL:-} initrd=${INITRD:-}
while [ $# -gt 0 ]; do
  case $1 in
    --check) check=1; shift ;;
    --scenario) scenario=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;;
    --initrd) initrd=$2; shift 2 ;;
    --bare) bare=--bare; shift ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    *) echo "demo: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$kernel" ] || kernel=$("$top/tests/fixtures.sh" kernel cloud)
[ -n "$initrd" ] || initrd=$("$top/tests/fixtures.sh" initramfs -s "$scenario" -o "$top/build/initramfs/$name.cpio.gz")
args=(-o "$top/build/iso/$name.iso" --kernel "$kernel" --initrd "$initrd")
[ -n "$bare" ] && args+=(--bare)
[ -n "${HV_OPTS:-}" ] && args+=(--hv-opts "$HV_OPTS")
[ -n "${GUEST_CMDLINE:-}" ] && args+=(--cmdline "$GUEST_CMDLINE")
"$here/mkiso.sh" "${args[@]}" >/dev/null

run="$top/build/runs/$name"
echo "demo: booting $([ -n "$bare" ] && echo "the guest without hvmon" || echo "hvmon + guest") in Bochs" \
     "(kernel $(basename "$kernel"), initrd $(basename "$initrd")); logs in $run"
echo "demo: Bochs is slow (~30-90 s to guest userspace); Ctrl-C stops it."
rm -rf "$run"
"$here/run.sh" --name "$name" --iso "$top/build/iso/$name.iso" --timeout "$timeout_s" --quiet \
  --fail-on 'guest:Kernel panic|HVMON-GUEST: poweroff failed' &
runpid=$!
# run.sh recreates the run directory: wait for it before following the logs.
for _ in $(seq 50); do [ -f "$run/bochsrc" ] && break; sleep 0.1; done
# tail --pid ends each follower when run.sh ends (after a last read of the file).
tail -n +1 -F --pid="$runpid" "$run/hvmon.log" 2>/dev/null | sed -u 's/\r$//; s/^/hvmon| /' &
t1=$!
tail -n +1 -F --pid="$runpid" "$run/guest.log" 2>/dev/null | sed -u 's/\r$//; s/^/guest| /' &
t2=$!
trap 'kill "$runpid" 2>/dev/null' INT TERM
set +e
wait "$runpid"; rc=$?
set -e
wait "$t1" "$t2" 2>/dev/null || true
echo
echo "demo: $(tr '\n' ' ' < "$run/result")"
if [ "$check" = 1 ]; then
  ok=1
  grep -aq 'HVMON-GUEST: userspace reached' "$run/guest.log" || { echo "test-boot: FAIL: guest never reached userspace"; ok=0; }
  grep -aqE 'HVMON-GUEST: scenario [a-z0-9-]+ exit=0' "$run/guest.log" || { echo "test-boot: FAIL: scenario did not exit 0"; ok=0; }
  grep -aq '^status=exit' "$run/result" || { echo "test-boot: FAIL: Bochs did not end by guest power-off"; ok=0; }
  [ "$ok" = 1 ] && echo "test-boot: PASS" || exit 1
fi
[ "$rc" = 0 ]

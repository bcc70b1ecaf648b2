#!/usr/bin/env bash
# Build a BIOS GRUB ISO (grub-mkrescue) that boots either hvmon + a guest, or the guest alone.
#
# Boot interface (a contract, see docs/BOOT.md):
#   multiboot2 /hvmon.elf <hvmon options>
#   module2    /vmlinuz guest-kernel <guest command line>
#   module2    /initrd  guest-initrd
# Bare mode (no hvmon, baseline): linux /vmlinuz <guest command line>; initrd /initrd
#
# Usage: tests/bochs/mkiso.sh -o OUT.iso --kernel BZIMAGE --initrd INITRD
#          [--hvmon ELF] [--hv-opts "console=com2 log=info"] [--cmdline "console=ttyS0 ..."] [--bare]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

DEFAULT_HV_OPTS="console=com2 log=info"
DEFAULT_CMDLINE="console=ttyS0,115200 panic=-1 loglevel=7"

out="" kernel="" initrd="" hvmon="$top/build/hvmon.elf" hv_opts="$DEFAULT_HV_OPTS"
cmdline="$DEFAULT_CMDLINE" bare=0
die() { echo "mkiso: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;;
    --initrd) initrd=$2; shift 2 ;;
    --hvmon) hvmon=$2; shift 2 ;;
    --hv-opts) hv_opts=$2; shift 2 ;;
    --cmdline) cmdline=$2; shift 2 ;;
    --bare) bare=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
[ -n "$out" ] || die "missing -o OUT.iso"
[ -f "$kernel" ] || die "guest kernel not found: '${kernel}' (tests/fixtures.sh kernel)"
[ -f "$initrd" ] || die "guest initrd not found: '${initrd}' (tests/fixtures.sh initramfs)"
[ "$bare" = 1 ] || [ -f "$hvmon" ] || die "hvmon image not found: '$hvmon' (run make)"
for t in grub-mkrescue xorriso mformat; do
  command -v "$t" >/dev/null || die "$t missing (run tools/deps.sh)"
done
[ -d /usr/lib/grub/i386-pc ] || die "/usr/lib/grub/i386-pc missing (grub-pc-bin; run tools/deps.sh)"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
cp "$kernel" "$stage/vmlinuz"
cp "$initrd" "$stage/initrd"
{
  echo "set timeout=0"
  echo "set timeout_style=hidden"
  echo "set default=0"
  # GRUB's own messages (errors such as a missing file) go to the first serial port too.
  echo "serial --unit=0 --speed=115200"
  echo "terminal_output serial console"
  if [ "$bare" = 1 ]; then
    echo "menuentry 'guest (bare, no hvmon)' {"
    echo "  echo 'GRUB: booting guest without hvmon'"
    echo "  linux /vmlinuz $cmdline"
    echo "  initrd /initrd"
    echo "}"
  else
    cp "$hvmon" "$stage/hvmon.elf"
    echo "menuentry 'hvmon + guest' {"
    echo "  echo 'GRUB: booting hvmon'"
    echo "  multiboot2 /hvmon.elf $hv_opts"
    echo "  module2 /vmlinuz guest-kernel $cmdline"
    echo "  module2 /initrd guest-initrd"
    echo "  boot"
    echo "}"
  fi
} > "$stage/boot/grub/grub.cfg"
mkdir -p "$(dirname "$out")"
if ! grub-mkrescue -d /usr/lib/grub/i386-pc -o "$out" "$stage" > "$stage.log" 2>&1; then
  cat "$stage.log" >&2; rm -f "$stage.log"; die "grub-mkrescue failed"
fi
rm -f "$stage.log"
echo "$out"

#!/usr/bin/env bash
# make-esp.sh ESP_DIR ESP_IMG HVMON_EFI CFG [HVMON_ELF]
# Builds the ESP folder and a FAT16 image of it (mtools, no root):
#   EFI/BOOT/BOOTX64.EFI  hvmon/hvmon.cfg  hvmon/hvmon.elf  hvmon/vmlinuz  hvmon/initrd
# KERNEL/INITRD come from boot/uefi/esp-fixtures.sh (override: ESP_KERNEL/ESP_INITRD).
set -euo pipefail
dir=$1 img=$2 efi=$3 cfg=$4 elf=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
read -r kernel initrd < <("$here/esp-fixtures.sh")
rm -rf "$dir"
mkdir -p "$dir/EFI/BOOT" "$dir/hvmon"
cp "$efi" "$dir/EFI/BOOT/BOOTX64.EFI"
cp "$cfg" "$dir/hvmon/hvmon.cfg"
cp "$kernel" "$dir/hvmon/vmlinuz"
cp "$initrd" "$dir/hvmon/initrd"
if [ -n "$elf" ] && [ -f "$elf" ]; then
	cp "$elf" "$dir/hvmon/hvmon.elf"
else
	echo "make-esp: NOTE: no hvmon.elf built yet; the ESP has none (monitored boot will report it missing)" >&2
fi
# FAT16 image: content + 8 MiB, at least 32 MiB
kb=$(du -sk "$dir" | cut -f1)
mb=$(( (kb / 1024) + 8 )); [ "$mb" -ge 32 ] || mb=32
rm -f "$img"
truncate -s "${mb}M" "$img"
mformat -i "$img" -v HVMON_ESP -T $((mb * 2048)) -h 16 -s 32 ::
mcopy -s -i "$img" "$dir"/EFI "$dir"/hvmon ::/
echo "make-esp: $dir and $img (${mb} MiB FAT): $(cd "$dir" && find . -type f | sort | tr '\n' ' ')"

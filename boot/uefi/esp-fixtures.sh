#!/usr/bin/env bash
# Guest kernel + initrd for the ESP: prints "KERNEL INITRD" (absolute paths).
# Order: $ESP_KERNEL/$ESP_INITRD; else the pinned cloud kernel from
# cache/debs (apt-get download if missing) and a busybox initramfs whose /init
# prints "hvmon-uefi-guest: userspace reached" on the console, then powers
# off (ACPI, or Bochs' port 0x8900 "Shutdown" when there is no ACPI).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${ESP_KERNEL:-}" ] && [ -n "${ESP_INITRD:-}" ]; then
	echo "$ESP_KERNEL $ESP_INITRD"; exit 0
fi
pkg=linux-image-6.1.0-56-cloud-amd64-unsigned
out="$top/cache/uefi"
mkdir -p "$out" "$top/cache/debs"
kernel="$out/vmlinuz-cloud"
if [ ! -s "$kernel" ]; then
	deb=$(ls "$top"/cache/debs/${pkg}_*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		(cd "$top/cache/debs" && apt-get download -qq "$pkg" >&2)
		deb=$(ls "$top"/cache/debs/${pkg}_*.deb | head -n1)
	fi
	tmp=$(mktemp -d "$out/.x.XXXXXX")
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
	mv "$tmp"/boot/vmlinuz-* "$kernel"
	rm -rf "$tmp"
fi
initrd="$out/initrd-busybox.cpio.gz"
if [ ! -s "$initrd" ] || [ "$0" -nt "$initrd" ]; then
	tmp=$(mktemp -d "$out/.i.XXXXXX")
	mkdir -p "$tmp"/{bin,proc,sys,dev}
	cp /bin/busybox "$tmp/bin/busybox"
	for c in sh mount echo cat dd printf poweroff sleep uname ls ps; do ln -s busybox "$tmp/bin/$c"; done
	cat > "$tmp/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "hvmon-uefi-guest: userspace reached ($(uname -r))"
ls / >/dev/null; cat /proc/cmdline
echo "hvmon-uefi-guest: powering off"
# Bochs (any firmware): "Shutdown" byte by byte to port 0x8900 ends the run
for c in S h u t d o w n; do printf "$c" | dd of=/dev/port bs=1 seek=35072 count=1 2>/dev/null; done
poweroff -f
INIT
	chmod +x "$tmp/init"
	(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -9) > "$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$tmp"
fi
echo "$kernel $initrd"

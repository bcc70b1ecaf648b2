#!/usr/bin/env bash
# Guest kernel + initrd for the ESP: prints "KERNEL INITRD" (absolute paths).
# $ESP_KERNEL/$ESP_INITRD when both are set; otherwise the harness fixtures
# (tests/fixtures.sh): the pinned default kernel (cloud 6.1) and the busybox
# initramfs with scenario $ESP_SCENARIO (default: boot), whose /init prints
# "HVMON-GUEST: userspace reached ..." and "HVMON-GUEST: powering off".
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${ESP_KERNEL:-}" ] && [ -n "${ESP_INITRD:-}" ]; then
	echo "$ESP_KERNEL $ESP_INITRD"; exit 0
fi
kernel=$("$top/tests/fixtures.sh" kernel "${ESP_KERNEL_PKG:-cloud}")
initrd=$("$top/tests/fixtures.sh" initramfs -s "${ESP_SCENARIO:-boot}" \
	-o "$top/build/initramfs/uefi-${ESP_SCENARIO:-boot}.cpio.gz")
echo "$kernel $initrd"

#!/usr/bin/env bash
# run-qemu.sh ESP_DIR [extra qemu args...]
# Boots the ESP folder in QEMU + OVMF, serial on stdio. With /dev/kvm and
# nested VT-x: -enable-kvm -cpu host,+vmx (hvmon runs the monitored guest);
# otherwise TCG, which has no VMX: hvmon.efi then follows no_vtx.
# Env: QEMU_TIMEOUT (seconds, default none), QEMU_MEM (default 1024),
#      QEMU_SERIAL (default stdio; e.g. file:serial.log).
set -euo pipefail
esp=$1; shift
ovmf=${QEMU_OVMF:-/usr/share/OVMF/OVMF_CODE.fd}
nested=""
for f in /sys/module/kvm_intel/parameters/nested; do
	[ -r "$f" ] && nested=$(cat "$f")
done
if [ -w /dev/kvm ] && { [ "$nested" = Y ] || [ "$nested" = 1 ]; }; then
	accel=(-enable-kvm -cpu host,+vmx)
	echo "run-qemu: KVM with nested VT-x: hvmon.efi will boot the monitored guest" >&2
else
	accel=(-cpu max)
	echo "run-qemu: VMX is unavailable here (no /dev/kvm with nested VT-x; QEMU TCG emulates no VMX):" >&2
	echo "run-qemu: hvmon.efi will report it and follow no_vtx in $esp/hvmon/hvmon.cfg" >&2
fi
cmd=(qemu-system-x86_64 -machine q35 "${accel[@]}" -m "${QEMU_MEM:-1024}" -bios "$ovmf"
     -drive "format=raw,file=fat:rw:$esp" -serial "${QEMU_SERIAL:-stdio}" -display none -nodefaults -no-reboot "$@")
if [ -n "${QEMU_TIMEOUT:-}" ]; then
	exec timeout --foreground -k 5 "$QEMU_TIMEOUT" "${cmd[@]}"
fi
exec "${cmd[@]}"

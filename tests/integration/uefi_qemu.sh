#!/usr/bin/env bash
# UEFI front end in QEMU TCG + OVMF (no VMX there; docs/UEFI.md):
#   - no_vtx = refuse: clear message, no guest;
#   - no_vtx = boot-unmonitored: loud banner, the guest reaches userspace;
#   - each kind of bad configuration gives its documented error;
#   - EFI_RNG_PROTOCOL (issue 18): with a virtio-rng device OVMF provides it and
#     hvmon.efi takes its 32-byte seed for hvmon's boot nonce (asked before the
#     VT-x check, so TCG shows it); without one it says hvmon relies on RDRAND.
# Every run is bounded (UEFI_QEMU_TIMEOUT, default 45 s; the guest run 90 s)
# and stopped as soon as its outcome is on the serial log.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
efi=${HVMON_EFI:-build/uefi/hvmon.efi}
[ -f "$efi" ] || make -s "$efi" >/dev/null
work=build/test-uefi-qemu
rm -rf "$work"; mkdir -p "$work"
read -r kernel initrd < <(boot/uefi/esp-fixtures.sh)
TMO=${UEFI_QEMU_TIMEOUT:-45}
pass=0 failn=0 failed=()

# mkesp NAME: ESP folder with hvmon.efi, kernel, initrd; config from stdin
# (no stdin data -> no config file when NOCFG=1)
mkesp() {
	local d=$work/$1/esp
	mkdir -p "$d/EFI/BOOT" "$d/hvmon"
	cp "$efi" "$d/EFI/BOOT/BOOTX64.EFI"
	cp "$kernel" "$d/hvmon/vmlinuz"
	cp "$initrd" "$d/hvmon/initrd"
	if [ "${NOCFG:-0}" != 1 ]; then cat > "$d/hvmon/hvmon.cfg"; fi
	echo "$d"
}

# run NAME DONE_REGEX TIMEOUT [QEMU ARGS...]: boot the ESP, stop when DONE_REGEX shows up
run() {
	local name=$1 done_re=$2 tmo=$3 log=$work/$1/serial.log pid t=0
	shift 3
	: > "$log"
	QEMU_SERIAL=file:$log QEMU_MEM=512 QEMU_TIMEOUT=$tmo \
		boot/uefi/run-qemu.sh "$work/$name/esp" "$@" > "$work/$name/qemu.out" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if grep -aqE "$done_re" "$log"; then sleep 1; break; fi
		sleep 0.5; t=$((t + 1))
	done
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	tr -d '\r' < "$log" > "$log.txt"
}

# check NAME (+|-)FIXED_STRING...: + must appear, - must not
check() {
	local name=$1 ok=1 s; shift
	for s in "$@"; do
		case $s in
		+*) grep -aqF -- "${s:1}" "$work/$name/serial.log.txt" || { echo "  [$name] missing: ${s:1}"; ok=0; } ;;
		-*) ! grep -aqF -- "${s:1}" "$work/$name/serial.log.txt" || { echo "  [$name] unexpected: ${s:1}"; ok=0; } ;;
		esac
	done
	if [ $ok = 1 ]; then echo "PASS uefi_qemu/$name"; pass=$((pass + 1))
	else echo "FAIL uefi_qemu/$name (log: $work/$name/serial.log.txt)"; failn=$((failn + 1)); failed+=("$name"); fi
}

STOP='STOPPED: no guest was started'
NOGUEST=(-"Linux version" -"HVMON-GUEST")
GOOD='kernel = \hvmon\vmlinuz
initrd = \hvmon\initrd
cmdline = console=ttyS0,115200 panic=-1'

# 1. refuse (the default policy); a virtio-rng device gives OVMF an EFI_RNG_PROTOCOL
printf '%s\nlog = debug\n' "$GOOD" | mkesp refuse >/dev/null
run refuse "$STOP" "$TMO" -device virtio-rng-pci
check refuse +"VT-x is not usable: this CPU has no VT-x (CPUID.1:ECX.VMX = 0)" \
	+"no_vtx = refuse: hvmon needs VT-x" +"hvmon options: log=debug" +"hvmon options in effect: " \
	+"EFI_RNG_PROTOCOL: 32 bytes of seed for hvmon" -"EFI_RNG_PROTOCOL: not available" \
	+"$STOP" "${NOGUEST[@]}"
grep -q "VMX is unavailable here" "$work/refuse/qemu.out" && \
	{ echo "PASS uefi_qemu/run-qemu-says-no-vmx"; pass=$((pass + 1)); } || \
	{ echo "FAIL uefi_qemu/run-qemu-says-no-vmx"; failn=$((failn + 1)); failed+=(run-qemu-msg); }

# 2. boot-unmonitored: the guest reaches userspace, loudly unmonitored
printf '%s\nno_vtx = boot-unmonitored\n' "$GOOD" | mkesp unmonitored >/dev/null
run unmonitored 'HVMON-GUEST: powering off|Kernel panic' 90
check unmonitored +"no_vtx = boot-unmonitored: booting the guest WITHOUT hvmon" \
	+"EFI_RNG_PROTOCOL: not available (Not Found); hvmon relies on RDRAND/RDSEED" \
	+"THE GUEST IS NOT MONITORED" +"Linux version 6.1" \
	+"HVMON-GUEST: userspace reached" +"HVMON-GUEST: scenario boot exit=0" +"initrd=\\hvmon\\initrd console=ttyS0,115200 panic=-1" \
	-"Kernel panic" -"$STOP"

# 3. bad configurations, each with its documented message
NOCFG=1 mkesp no-config </dev/null >/dev/null
run no-config "$STOP" "$TMO"
check no-config +"ERROR: cannot open the configuration file \\hvmon\\hvmon.cfg on the boot partition: Not Found" \
	+"$STOP" "${NOGUEST[@]}"

printf '# hvmon\n\nkernel \\hvmon\\vmlinuz\n' | mkesp syntax >/dev/null
run syntax "$STOP" "$TMO"
check syntax +"ERROR: \\hvmon\\hvmon.cfg line 3: expected 'key = value', found 'kernel \\hvmon\\vmlinuz'" \
	+"$STOP" "${NOGUEST[@]}"

printf '%s\nmonitor = tracer\n' "$GOOD" | mkesp unknown-key >/dev/null
run unknown-key "$STOP" "$TMO"
check unknown-key +"ERROR: \\hvmon\\hvmon.cfg line 4: hvmon option 'monitor=tracer': unknown option (neither an hvmon option nor a hvmon.efi key" \
	+"$STOP" "${NOGUEST[@]}"

printf '%s\nno_vtx = maybe\n' "$GOOD" | mkesp bad-no-vtx >/dev/null
run bad-no-vtx "$STOP" "$TMO"
check bad-no-vtx +"line 4: no_vtx must be 'refuse' or 'boot-unmonitored', not 'maybe'" +"$STOP" "${NOGUEST[@]}"

printf '%s\nlog = info\nlog = debug\n' "$GOOD" | mkesp duplicate >/dev/null
run duplicate "$STOP" "$TMO"
check duplicate +"line 5: duplicate key 'log' (first set on line 4)" +"$STOP" "${NOGUEST[@]}"

printf '%s\nconsole = com2\nlog = loud\n' "$GOOD" | mkesp bad-option >/dev/null
run bad-option "$STOP" "$TMO"
check bad-option +"ERROR: \\hvmon\\hvmon.cfg line 5: hvmon option 'log=loud': expected error|warn|info|debug" \
	-"option 'console" +"$STOP" "${NOGUEST[@]}"

printf '%s\nmonitors = tracer hang\n' "$GOOD" | mkesp blank-value >/dev/null
run blank-value "$STOP" "$TMO"
check blank-value +"line 4: the value of 'monitors' must not contain blanks" +"$STOP" "${NOGUEST[@]}"

printf 'initrd = \\hvmon\\initrd\n' | mkesp no-kernel-key >/dev/null
run no-kernel-key "$STOP" "$TMO"
check no-kernel-key +"ERROR: \\hvmon\\hvmon.cfg: missing required key 'kernel'" +"$STOP" "${NOGUEST[@]}"

printf 'kernel = \\hvmon\\bzImage\nno_vtx = boot-unmonitored\n' | mkesp missing-kernel >/dev/null
run missing-kernel "$STOP" "$TMO"
check missing-kernel +"ERROR: cannot open the kernel '\\hvmon\\bzImage' on the boot partition: Not Found" \
	+"$STOP" "${NOGUEST[@]}" -"WITHOUT hvmon"

printf 'kernel = vmlinuz\ninitrd = initrd.gz\nno_vtx = boot-unmonitored\n' | mkesp missing-initrd >/dev/null
run missing-initrd "$STOP" "$TMO"
check missing-initrd +"ERROR: cannot open the initrd '\\hvmon\\initrd.gz' on the boot partition: Not Found" \
	+"$STOP" "${NOGUEST[@]}"

printf '\xff\xfek\x00e\x00r\x00' | mkesp utf16 >/dev/null
run utf16 "$STOP" "$TMO"
check utf16 +"the file is UTF-16; save it as plain ASCII/UTF-8 text" +"$STOP" "${NOGUEST[@]}"

# 4. make esp's script: folder + FAT16 image holding the documented layout
mkdir -p "$work/make-esp"
if boot/uefi/make-esp.sh "$work/make-esp/esp" "$work/make-esp/esp.img" "$efi" boot/uefi/hvmon.cfg.esp \
	"$(ls build/hvmon.elf 2>/dev/null)" > "$work/make-esp/out.txt" 2>&1 &&
   file "$work/make-esp/esp.img" | grep -q 'FAT (16 bit)' &&
   mdir -i "$work/make-esp/esp.img" -b ::/ -/ > "$work/make-esp/listing.txt" 2>&1 &&
   grep -qi '^::/EFI/BOOT/BOOTX64.EFI$' "$work/make-esp/listing.txt" &&
   grep -qi '^::/hvmon/hvmon.cfg$' "$work/make-esp/listing.txt" &&
   grep -qi '^::/hvmon/vmlinuz$' "$work/make-esp/listing.txt" &&
   grep -qi '^::/hvmon/initrd$' "$work/make-esp/listing.txt" &&
   mtype -i "$work/make-esp/esp.img" ::/hvmon/hvmon.cfg | cmp -s - boot/uefi/hvmon.cfg.esp &&
   cmp -s "$efi" "$work/make-esp/esp/EFI/BOOT/BOOTX64.EFI"; then
	echo "PASS uefi_qemu/make-esp"; pass=$((pass + 1))
else
	echo "FAIL uefi_qemu/make-esp ($work/make-esp)"; failn=$((failn + 1)); failed+=(make-esp)
fi

echo "uefi_qemu: $pass passed, $failn failed${failed:+ (${failed[*]})}"
echo "$pass passed, $failn failed"
[ "$failn" = 0 ]

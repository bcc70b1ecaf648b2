#!/usr/bin/env bash
# hvmon.efi under Bochs + OVMF (VT-x + EPT emulated, one CPU, no ACPI tables):
#   probe      : VT-x detected; a handoff probe (boot/uefi/probe, a stand-in for
#                hvmon.elf) checks from the inside everything boot/handoff.h
#                promises (RDI/RSI, IF=0, long mode, bss/heap zeroed, boot_info
#                fields, reserved ranges, kernel/initrd) and ends the run;
#   no-memory  : an image asking for more than there is -> "not enough memory";
#   no-hvmon   : hvmon.elf missing -> its documented error;
#   hvmon      : (tests/integration/uefi_bochs_guest.sh) the real build/hvmon.elf on an ESP made by
#                pkg/hvmon-efi-install: hvmon.efi hands off, hvmon's banner says "UEFI boot".
#   guest      : (same run) the monitored guest reaches userspace and its
#                boot scenario passes (UEFI_BOCHS_GUEST=0 leaves this out).
# Each run is bounded (UEFI_BOCHS_TIMEOUT / UEFI_BOCHS_GUEST_TIMEOUT) and stopped as soon
# as its outcome is on COM1. One Bochs at a time.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
TMO=${UEFI_BOCHS_TIMEOUT:-240}          # firmware-only runs (measured 30-90 s)
GTMO=${UEFI_BOCHS_GUEST_TIMEOUT:-600}   # hvmon + guest to userspace (measured 240-272 s)
work=build/test-uefi-bochs
mkdir -p "$work"
make -s build/uefi/hvmon.efi build/uefi/handoff-probe.elf >/dev/null || exit 1
read -r kernel initrd < <(boot/uefi/esp-fixtures.sh)
pass=0 failn=0 failed=()
ONLY=${UEFI_BOCHS_ONLY:-probe no-memory no-hvmon}   # scenarios to run (uefi_bochs_guest.sh: hvmon)
want() { [[ " $ONLY " == *" $1 "* ]]; }

# mkimg NAME HVMON_ELF: FAT16 ESP image; config from stdin
mkimg() {
	local name=$1 elf=$2 d=$work/$1/esp
	rm -rf "${work:?}/$name"
	mkdir -p "$d/EFI/BOOT" "$d/hvmon"
	cp build/uefi/hvmon.efi "$d/EFI/BOOT/BOOTX64.EFI"
	cp "$kernel" "$d/hvmon/vmlinuz"
	cp "$initrd" "$d/hvmon/initrd"
	[ -n "$elf" ] && cp "$elf" "$d/hvmon/hvmon.elf"
	cat > "$d/hvmon/hvmon.cfg"
	truncate -s 48M "$work/$name/esp.img"
	mformat -i "$work/$name/esp.img" -v HVMON_ESP -T $((48 * 2048)) -h 16 -s 32 :: &&
	mcopy -s -i "$work/$name/esp.img" "$d/EFI" "$d/hvmon" ::/
}

run() {   # run NAME DONE_REGEX [TIMEOUT]
	local s; s=$(date +%s)
	BOCHS_TIMEOUT=${3:-$TMO} BOCHS_DONE_RE=$2 boot/uefi/run-bochs.sh "$work/$1/esp.img" "$work/$1" 2>/dev/null
	tr -d '\r' < "$work/$1/com1.log" > "$work/$1/com1.txt" 2>/dev/null || : > "$work/$1/com1.txt"
	tr -d '\r' < "$work/$1/com2.log" > "$work/$1/com2.txt" 2>/dev/null || : > "$work/$1/com2.txt"
	echo "     ($1: $(( $(date +%s) - s )) s)"
}

check() {  # check NAME (+|-)STRING...   (in NAME/com1.txt, or NAME/$LOG when LOG is set)
	local name=$1 ok=1 s log=${LOG:-com1.txt}; shift
	for s in "$@"; do
		case $s in
		+*) grep -aqF -- "${s:1}" "$work/$name/$log" || { echo "  [$name] missing in $log: ${s:1}"; ok=0; } ;;
		-*) ! grep -aqF -- "${s:1}" "$work/$name/$log" || { echo "  [$name] unexpected in $log: ${s:1}"; ok=0; } ;;
		esac
	done
	if [ $ok = 1 ]; then echo "PASS uefi_bochs/$name"; pass=$((pass + 1))
	else echo "FAIL uefi_bochs/$name (log: $work/$name/$log)"; failn=$((failn + 1)); failed+=("$name"); fi
}

STOP='STOPPED: no guest was started'
CFG='kernel = \hvmon\vmlinuz
initrd = \hvmon\initrd
cmdline = console=ttyS0,115200 panic=-1'

# 1. the handoff, checked from the inside
want probe && {
printf '%s\nlog = debug\nmonitors = tracer\n' "$CFG" | mkimg probe build/uefi/handoff-probe.elf
run probe 'hvmon-probe: handoff|STOPPED'
check probe +"VT-x: usable (VMX, EPT, unrestricted guest" +"loaded hvmon '\\hvmon\\hvmon.elf'" \
	+"loaded kernel '\\hvmon\\vmlinuz'" +"loaded initrd '\\hvmon\\initrd'" \
	+"ACPI RSDP: 0x0 (none: the firmware has no ACPI tables)" \
	+"boot services exited; jumping to hvmon" +"hvmon-probe: hv_cmdline='log=debug monitors=tracer'" \
	+"hvmon-probe: guest_cmdline='console=ttyS0,115200 panic=-1'" \
	+"hvmon-probe: handoff OK" -"hvmon-probe: FAIL" -"$STOP"
}

# 2. not enough memory: the probe asking for a 3.75 GiB heap (512 MiB machine)
want no-memory && {
cp build/uefi/handoff-probe.elf "$work/bigheap.elf"
printf '\x00\x00\x00\xf0\x00\x00\x00\x00' | dd of="$work/bigheap.elf" bs=1 seek=$((0x1000 + 0x20)) conv=notrunc status=none
printf '%s\n' "$CFG" | mkimg no-memory "$work/bigheap.elf"
run no-memory "$STOP|hvmon-probe"
check no-memory +"ERROR: not enough memory below 4 GiB for hvmon: 3841 MiB" +"$STOP" -"hvmon-probe" -"jumping to hvmon"
}

# 3. hvmon.elf missing
want no-hvmon && {
printf '%s\nhvmon = \\hvmon\\hvmon-1.elf\n' "$CFG" | mkimg no-hvmon ""
run no-hvmon "$STOP"
check no-hvmon +"ERROR: cannot open hvmon's image '\\hvmon\\hvmon-1.elf' on the boot partition: Not Found" \
	+"$STOP" -"jumping to hvmon"
}

# 4. the real hvmon.elf
if ! want hvmon; then :
elif [ -f build/hvmon.elf ]; then
	# hvmon logs to com2 (console = com2) so that its event lines cannot split the guest's
	# markers on com1; hvmon.efi itself writes to the firmware console (com1).
	# The ESP is made by the package's installer (pkg/hvmon-efi-install, issue 13) from a
	# staged root: \hvmon\hvmon.cfg, hvmon.elf, kernel and initrd as it lays them out.
	# --removable puts hvmon.efi at \EFI\BOOT\BOOTX64.EFI: OVMF on Bochs has no writable
	# variable store for an efibootmgr entry (pkg_deb.sh checks the entry it would create).
	r=$work/hvmon/root; rm -rf "${work:?}/hvmon"; mkdir -p "$r/boot" "$r/usr/lib/hvmon"
	cp build/hvmon.elf "$r/boot/hvmon.elf"; cp build/uefi/hvmon.efi "$r/usr/lib/hvmon/"
	cp "$kernel" "$r/boot/vmlinuz-test"; cp "$initrd" "$r/boot/initrd.img-test"
	truncate -s 48M "$work/hvmon/esp.img"
	mformat -i "$work/hvmon/esp.img" -v HVMON_ESP -T $((48 * 2048)) -h 16 -s 32 ::
	pkg/hvmon-efi-install --root "$r" --esp "$work/hvmon/esp.img" --kernel test --removable \
		--cmdline "console=ttyS0,115200 panic=-1" --options "log=debug console=com2 bochs_exit=on" \
		|| echo "FAIL uefi_bochs/hvmon: hvmon-efi-install"
	# the run must end by itself: no ACPI under OVMF on Bochs, so the guest's poweroff ends in
	# "System halted" (HLT with IF=0); hvmon sees that final halt from its tick and ends the
	# run (exit statistics, then port 0x8900: bochs_exit = on)
	run hvmon 'Kernel panic|hvmon: PANIC|STOPPED' "$GTMO"
	check hvmon +"VT-x: usable" +"boot services exited; jumping to hvmon" -"$STOP"
	LOG=com2.txt check hvmon +"thin VT-x/EPT hypervisor (UEFI boot, command line \"log=debug console=com2 bochs_exit=on\")" \
		+"hvmon: entering the guest" +"hvmon: guest halted with interrupts disabled for 2000 ms" \
		+"hvmon: exit statistics"
	if [ "${UEFI_BOCHS_GUEST:-1}" = 1 ]; then
		rm -rf "$work/guest"; mkdir -p "$work/guest"
		cp "$work/hvmon/com1.txt" "$work/hvmon/com2.txt" "$work/guest/"
		check guest +"HVMON-GUEST: userspace reached" \
			+"HVMON-GUEST: cpuinfo-vmx no" +"HVMON-GUEST: scenario boot exit=0" -"Kernel panic"
		# the monitored guest: the process tracer's events on hvmon's console
		LOG=com2.txt check guest +'{"event":"exec"' +'{"event":"fork"' +'{"event":"exit"'
	fi
else
	echo "FAIL uefi_bochs/hvmon: build/hvmon.elf not built (make hvmon)"; failn=$((failn + 1)); failed+=(hvmon)
fi

echo "uefi_bochs: $pass passed, $failn failed${failed:+ (${failed[*]})}"
echo "$pass passed, $failn failed"
[ "$failn" = 0 ]

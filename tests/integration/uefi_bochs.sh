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
#   tamper     : (same run, issue 18) the installer's \hvmon\hvmon.cfg names a collector; a
#                guest root's edit of it (monitors = tracer: the hang, ret2usr and keylogger
#                detectors off) is booted; hvmon's e1000 (PCI as OVMF left it) sends through
#                slirp to hvmon-collect --profile, which alarms for each monitor that is off.
# Each run is bounded (UEFI_BOCHS_TIMEOUT / UEFI_BOCHS_GUEST_TIMEOUT) and stopped as soon
# as its outcome is on COM1. One Bochs at a time.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
TMO=${UEFI_BOCHS_TIMEOUT:-240}          # firmware-only runs (measured 30-90 s)
GTMO=${UEFI_BOCHS_GUEST_TIMEOUT:-600}   # hvmon + guest to userspace (measured 240-272 s)
work=build/test-uefi-bochs
mkdir -p "$work"
make -s build/uefi/hvmon.efi build/uefi/handoff-probe.elf build/tools/hvmon-collect >/dev/null || exit 1
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
	# the network channel (issue 18): a collector on a free port, reached through slirp
	T=$(mktemp -d /tmp/uefi_bochs.XXXXXX); CPID=
	trap '[ -n "${KEEP:-}" ] || rm -rf "$T"; [ -n "$CPID" ] && kill $CPID 2>/dev/null' EXIT
	build/tools/hvmon-collect --genkey "$T/key" 2>/dev/null || echo "FAIL uefi_bochs/tamper: genkey"
	KEY=$(tr -d '\n' < "$T/key")
	while :; do P=$(( 20000 + RANDOM % 30000 )); ss -Hlun "sport = :$P" | grep -q . || break; done
	OPTS="log=debug console=com2 bochs_exit=on console_events=all collector=10.0.2.2:$P key=$KEY ip=dhcp"
	pkg/hvmon-efi-install --root "$r" --esp "$work/hvmon/esp.img" --kernel test --removable \
		--cmdline "console=ttyS0,115200 panic=-1" --options "$OPTS" \
		|| echo "FAIL uefi_bochs/hvmon: hvmon-efi-install"
	# the tampering: a guest root that mounts the ESP switches detectors off in hvmon.cfg
	# (the tracer stays on, so the guest checks below still see its events)
	mtype -i "$work/hvmon/esp.img" ::/hvmon/hvmon.cfg > "$T/hvmon.cfg.installed"
	{ cat "$T/hvmon.cfg.installed"; echo "monitors = tracer"; } > "$T/hvmon.cfg"
	mcopy -o -i "$work/hvmon/esp.img" "$T/hvmon.cfg" ::/hvmon/hvmon.cfg
	# the profile of sender 0x00123456 (the MAC's low 4 bytes), as the operator writes it
	# without booting: hvmon-collect --make-profile over the files and options as installed
	build/tools/hvmon-collect --make-profile 0x00123456 --loader uefi --hvmon "$r/boot/hvmon.elf" \
		--kernel "$r/boot/vmlinuz-test" --initrd "$r/boot/initrd.img-test" --options "$OPTS" \
		| grep -v '^#' > "$T/profile" || echo "FAIL uefi_bochs/tamper: --make-profile"
	BAD_OSHA=$(build/tools/hvmon-collect --make-profile 0x00123456 --options "$OPTS monitors=tracer" \
		| sed -n 's/.*options_sha256=//p')
	build/tools/hvmon-collect --listen 127.0.0.1:$P --key "$T/key" --out "$T/out" --timeout $((GTMO + 60)) \
		--silence 100000 --profile "$T/profile" 2>"$T/err" &
	CPID=$!
	# the run must end by itself: no ACPI under OVMF on Bochs, so the guest's poweroff ends in
	# "System halted" (HLT with IF=0); hvmon sees that final halt from its tick and ends the
	# run (exit statistics, then port 0x8900: bochs_exit = on)
	BOCHS_EXTRA='pci: enabled=1, chipset=i440fx
e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=slirp' \
	run hvmon 'Kernel panic|hvmon: PANIC|STOPPED' "$GTMO"
	sleep 1; kill -TERM $CPID 2>/dev/null; wait $CPID; crc=$?; CPID=
	cp "$T/err" "$work/hvmon/collector.err"; cp "$T/out" "$work/hvmon/collector.out" 2>/dev/null
	rm -rf "$work/tamper"; mkdir -p "$work/tamper"
	cp "$work/hvmon/collector.err" "$work/hvmon/collector.out" "$work/hvmon/com2.txt" "$work/tamper/" 2>/dev/null
	check hvmon +"VT-x: usable" +"boot services exited; jumping to hvmon" -"$STOP" -"$KEY"
	LOG=com2.txt check hvmon +"thin VT-x/EPT hypervisor (UEFI boot, command line \"log=debug console=com2 bochs_exit=on" \
		+"key=<set>" -"$KEY" +"hvmon: entering the guest" +"hvmon: guest halted with interrupts disabled for 2000 ms" \
		+"hvmon: exit statistics"
	grep -a 'alarm:\|summary:' "$T/err" | cut -c1-160 | head -8
	grep -a 'measure:\|net: e1000\|net: address' "$work/hvmon/com2.txt" | head -4
	# the tampering is caught: the 3 monitors switched off and the options, nothing else
	# (hvmon.elf, kernel and initrd are the deployed ones: --make-profile's hashes match)
	LOG=collector.err check tamper \
		+"alarm: sender 00123456 boot" +"profile: monitor hang is off (booted with: " \
		+"profile: monitor ret2usr is off" +"profile: monitor keylogger is off" \
		+"profile: options_sha256 $BAD_OSHA, expected $(sed -n 's/.*options_sha256=//p' "$T/profile")" \
		-"profile: monitor tracer" -"hvmon_sha256" -"kernel_sha256" -"initrd_sha256" \
		-"forged: " -"replay: " -"alarms 0"
	# hvmon's e1000 under OVMF (PCI BARs as the firmware assigned them) sent through slirp:
	# boot_config first (seq 1), then the tracer's events, identical in number to the console's
	LOG=collector.out check tamper \
		+"{\"event\":\"boot_config\",\"sender\":\"127.0.0.1:" \
		+"\"sender_id\":1193046," +",\"seq\":1,\"rec\":0," +"\"monitors\":\"tracer\",\"loader\":\"uefi\"" \
		+"\"hvmon_sha256\":\"$(sed -n 's/.*hvmon_sha256=\([0-9a-f]*\).*/\1/p' "$T/profile")\"" \
		+"\"kernel_sha256\":\"$(sha256sum "$r/boot/vmlinuz-test" | cut -d' ' -f1)\"" \
		+"\"initrd_sha256\":\"$(sha256sum "$r/boot/initrd.img-test" | cut -d' ' -f1)\"" \
		+'{"event":"exec"' +'{"event":"fork"' +'{"event":"exit"'
	n_net=$(grep -c '"event":"exec"' "$work/tamper/collector.out"); n_con=$(grep -ac '"event":"exec"' "$work/tamper/com2.txt")
	echo "     (collector exit $crc; exec events: $n_net at the collector, $n_con on the console)"
	LOG=com2.txt check tamper +"net: e1000 00:02.0 BAR0 0x" +"(DHCP)" +"net: address 10.0.2.15"
	if [ $(( (crc - 64) & 32 )) = 32 ] && [ "$n_net" -gt 0 ] && [ "$n_net" = "$n_con" ]; then
		echo "PASS uefi_bochs/tamper-exit-and-events"; pass=$((pass + 1))
	else
		echo "FAIL uefi_bochs/tamper-exit-and-events (collector exit $crc, exec $n_net vs $n_con)"
		failn=$((failn + 1)); failed+=(tamper-exit)
	fi
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

#!/usr/bin/env bash
# run-bochs.sh ESP_IMG [OUTDIR] — boot a FAT ESP image in Bochs + OVMF
# (VT-x+EPT emulated: broadwell_ult, one CPU; OVMF has no ACPI tables there, so
# runs end through port 0x8900 "Shutdown"). Serial: OUTDIR/com1.log (hvmon.efi,
# guest), OUTDIR/com2.log; port 0xE9 goes to OUTDIR/bochs.out.
# Env: BOCHS_TIMEOUT (seconds, default 600), BOCHS_MEGS (default 512),
#      BOCHS_DONE_RE (stop as soon as com1.log matches this ERE),
#      BOCHS_EXTRA (more bochsrc lines, e.g. a PCI e1000 with slirp).
set -euo pipefail
img=$(realpath "$1")
out=$(realpath -m "${2:-build/bochs-uefi}")
mkdir -p "$out"
rm -f "$out"/com1.log "$out"/com2.log "$out"/bochs.log "$out"/bochs.out
# a Bochs run killed by its timeout leaves IMAGE.lock behind; images are per run
rm -f "$img.lock"
cat > "$out/bochsrc" <<RC
megs: ${BOCHS_MEGS:-512}
cpu: model=broadwell_ult, count=1, ips=200000000
romimage: file=/usr/share/OVMF/OVMF_CODE.fd
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=disk, path=$img, mode=flat
boot: disk
com1: enabled=1, mode=file, dev=$out/com1.log
com2: enabled=1, mode=file, dev=$out/com2.log
display_library: rfb, options="timeout=0"
clock: sync=none, time0=local
log: $out/bochs.log
panic: action=fatal
error: action=ignore
info: action=report
debug: action=ignore
speaker: enabled=0
port_e9_hack: enabled=1
${BOCHS_EXTRA:-}
RC
printf 'c\nquit\n' > "$out/dbg.rc"
# Bochs 2.7 aborts ("buffer overflow detected") at start-up under LANG=C.UTF-8
export LANG=C LC_ALL=C
timeout -k 5 "${BOCHS_TIMEOUT:-600}" bochs -q -f "$out/bochsrc" -rc "$out/dbg.rc" \
	</dev/null > "$out/bochs.out" 2>&1 &
pid=$!
if [ -n "${BOCHS_DONE_RE:-}" ]; then
	while kill -0 "$pid" 2>/dev/null; do
		if grep -aqE "$BOCHS_DONE_RE" "$out/com1.log" 2>/dev/null; then
			sleep 2; kill "$pid" 2>/dev/null || true; break
		fi
		sleep 1
	done
fi
rc=0; wait "$pid" || rc=$?
echo "run-bochs: exit $rc; logs in $out (com1.log, com2.log, bochs.out, bochs.log)" >&2
exit 0

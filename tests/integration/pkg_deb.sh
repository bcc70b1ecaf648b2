#!/usr/bin/env bash
# Issue 13: the Debian package, installed into a throwaway Debian root and booted.
#   1. `make deb` (tools/mkdeb.sh); lintian: no error or warning; man pages lint clean (mandoc).
#   2. a bookworm minbase root (tests/fixtures.sh debroot, cached) with the pinned cloud and 6.12
#      kernels' /boot files from their packages and the test initramfs as their initrd.img;
#      grub-probe is replaced by a stub there (the root has no block device; it answers for
#      a fixed ext4 partition). Nothing of this machine's /boot, GRUB or systemd is touched:
#      every command runs in the root (chroot) or on files under build/.
#   3. dpkg -i: the postinst creates /etc/hvmon/collect.key (0600) and runs update-grub; the
#      grub.cfg has one "with hvmon" entry per kernel with the documented lines and options
#      from /etc/default/grub.d/hvmon.cfg; the default entry is unchanged; HVMON_OVERRIDE_GRUB_DEFAULT=1
#      changes it; reinstalling without update-grub does not fail.
#   4. systemd-analyze verify accepts the installed unit.
#   5. the generated entry, exactly (its multiboot2/module2 lines; the installed hvmon.elf,
#      kernel and initrd) on a GRUB ISO in Bochs, with hvmon's NIC sending to the collector,
#      started with the unit's own ExecStart line and /etc/hvmon/collect.conf (as systemd would:
#      EnvironmentFile + the key as a credential): the guest reaches userspace, the tracer
#      reports, and the collector's events equal the console's, across a log rotation (rename +
#      SIGHUP, what /etc/logrotate.d/hvmon's postrotate triggers).
#   6. the installed hvmon-efi-install: --dry-run changes nothing; no ESP / no efibootmgr fail
#      closed; into a FAT image with a stub efibootmgr (records its arguments): the layout,
#      \hvmon\hvmon.cfg, and an entry created with --create-only (no BootNext, BootOrder kept).
#      The boot of an ESP made by this installer is tests/integration/uefi_bochs_guest.sh.
#   7. dpkg -r keeps the key and drops the entries; reinstall keeps the key; dpkg --purge
#      removes the key, /etc/hvmon and the generator.
set -euo pipefail
. "$(dirname "$0")/../bochs/lib.sh"
cd "$HV_TOP"
work=$HV_TOP/build/pkgtest
root=$work/root
rm -rf "$work"; mkdir -p "$work"
t0=$(date +%s)
ok() { echo "ok ($(( $(date +%s) - t0 )) s): $*"; }

# ---- 1. package, lintian, man pages ---------------------------------------------------
deb=$(tools/mkdeb.sh) || hv_fail "make deb failed"
lintian --allow-root --fail-on error,warning "$deb" > "$work/lintian.txt" 2>&1 \
	|| { cat "$work/lintian.txt"; hv_fail "lintian reports errors or warnings"; }
ok "$(basename "$deb"): lintian clean ($(grep -c '^[IP]:' "$work/lintian.txt" || true) info tags, overrides in pkg/debian/hvmon.lintian-overrides)"
mkdir -p "$work/x"; dpkg-deb -x "$deb" "$work/x"
for m in "$work"/x/usr/share/man/man*/*.gz; do
	zcat "$m" > "$work/man.tmp"
	out=$(mandoc -T lint -W warning "$work/man.tmp" 2>&1) || hv_fail "mandoc: $(basename "$m"): $out"
	[ -z "$out" ] || hv_fail "mandoc warnings in $(basename "$m"): $out"
done
ok "man pages: $(cd "$work/x/usr/share/man" && ls man*/ | grep -c gz) render without warnings (mandoc -T lint -W warning)"
for b in hvinfer hvmon-collect; do
	readelf -d "$work/x/usr/bin/$b" | grep -q 'NEEDED' || hv_fail "$b is not dynamically linked"
done
dpkg-deb -f "$deb" Depends | grep -q 'liblzo2-2' || hv_fail "Depends lacks the shared libraries: $(dpkg-deb -f "$deb" Depends)"
cmp -s pkg/hvmon-efi-install "$work/x/usr/sbin/hvmon-efi-install" || hv_fail "packaged hvmon-efi-install differs from pkg/"

# ---- 2. the throwaway root ------------------------------------------------------------
tarball=$(tests/fixtures.sh debroot) || hv_fail "debroot fixture"
mkdir -p "$root"; zstd -dc "$tarball" | tar -C "$root" -xf -
kernels=()
for alias in cloud 6.12; do
	k=$(hv_fixture_kernel "$alias")
	kroot=$(tests/fixtures.sh kernel-root "$alias")
	v=$(basename "$k"); v=${v#vmlinuz-}
	cp "$k" "$root/boot/vmlinuz-$v"
	cp "$kroot/boot/config-$v" "$root/boot/" 2>/dev/null || true
	kernels+=("$v")
done
KV=${kernels[0]}
initrd=$(hv_fixture_initrd boot -o "$HV_TOP/build/initramfs/pkg-boot.cpio.gz") || exit 1
for v in "${kernels[@]}"; do cp "$initrd" "$root/boot/initrd.img-$v"; done
# grub-probe stub: the root has no block device
chroot "$root" dpkg-divert --quiet --local --rename --add /usr/sbin/grub-probe
cat > "$root/usr/sbin/grub-probe" <<'STUB'
#!/bin/sh
# test stub (tests/integration/pkg_deb.sh): one ext4 partition /dev/sda1
t=device
for a in "$@"; do case $a in --target=*) t=${a#--target=} ;; esac; done
case $t in
device) echo /dev/sda1 ;;
fs) echo ext2 ;;
fs_uuid) echo 0e1f0a42-5ea1-4c0d-9d7e-0123456789ab ;;
fs_label) echo root ;;
partuuid) echo 0e1f0a42-01 ;;
drive) echo '(hd0,msdos1)' ;;
partmap) echo msdos ;;
abstraction|cryptodisk_uuid) ;;
compatibility_hint) echo hd0,msdos1 ;;
hints_string) echo '--hint-bios=hd0,msdos1 --hint-efi=hd0,msdos1 --hint-baremetal=ahci0,msdos1' ;;
bios_hints) echo hd0,msdos1 ;;
*) echo "grub-probe stub: target $t" >&2; exit 1 ;;
esac
STUB
chmod +x "$root/usr/sbin/grub-probe"
mkdir -p "$root/boot/grub"
# /etc/default/grub as grub-pc's postinst installs it, with a test host's guest command line
cp "$root/usr/share/grub/default/grub" "$root/etc/default/grub"
sed -i 's|^GRUB_CMDLINE_LINUX_DEFAULT=.*|GRUB_CMDLINE_LINUX_DEFAULT="panic=-1"|; s|^GRUB_CMDLINE_LINUX=.*|GRUB_CMDLINE_LINUX="console=ttyS0,115200"|' "$root/etc/default/grub"
chroot "$root" update-grub > "$work/update-grub-0.log" 2>&1 || { cat "$work/update-grub-0.log"; hv_fail "update-grub in the fresh root failed"; }
grep -q hvmon "$root/boot/grub/grub.cfg" && hv_fail "hvmon entries before the package is installed"
default0=$(grep -m1 '^ *set default="[^$]' "$root/boot/grub/grub.cfg")
ok "root: bookworm minbase + grub-common, kernels ${kernels[*]}, update-grub without hvmon"

# ---- 3. install -----------------------------------------------------------------------
cp "$deb" "$root/tmp/"
chroot "$root" dpkg -i "/tmp/$(basename "$deb")" > "$work/dpkg-i.log" 2>&1 || { cat "$work/dpkg-i.log"; hv_fail "dpkg -i failed"; }
[ "$(stat -c %a "$root/etc/hvmon/collect.key")" = 600 ] || hv_fail "collect.key mode $(stat -c %a "$root/etc/hvmon/collect.key")"
grep -Eqx '[0-9a-f]{64}' "$root/etc/hvmon/collect.key" || hv_fail "collect.key is not 64 hex digits"
key_sum=$(sha256sum < "$root/etc/hvmon/collect.key")
cfg=$root/boot/grub/grub.cfg
grep -q "menuentry 'Debian GNU/Linux, with hvmon'" "$cfg" || hv_fail "postinst's update-grub wrote no hvmon entry"
for v in "${kernels[@]}"; do
	grep -q "menuentry 'Debian GNU/Linux, with hvmon and Linux $v'" "$cfg" || hv_fail "no hvmon entry for $v"
done
[ "$(grep -m1 '^ *set default="[^$]' "$cfg")" = "$default0" ] || hv_fail "the default entry changed: $(grep -m1 '^ *set default="[^$]' "$cfg")"
ok "dpkg -i: key 0600, postinst's update-grub: entries for ${kernels[*]}, default unchanged ($default0)"

# options the way an operator sets them, then update-grub
port=$((20000 + RANDOM % 20000))
key=$(cat "$root/etc/hvmon/collect.key")
# wire_aead=chacha20-poly1305 (issue 16): this boot keeps wire version 1 (the SSE2 ChaCha20 seal in
# ring -1) against the packaged collector; net_vmx.sh's boot checks the default, version 2
hvopts="console=com2 log=info bochs_exit=on monitors=tracer console_events=all wire_aead=chacha20-poly1305 collector=10.0.2.2:$port ip=dhcp key=$key"
sed -i "s|^GRUB_CMDLINE_HVMON=.*|GRUB_CMDLINE_HVMON=\"$hvopts\"|" "$root/etc/default/grub.d/hvmon.cfg"
chroot "$root" update-grub > "$work/update-grub-1.log" 2>&1 || { cat "$work/update-grub-1.log"; hv_fail "update-grub failed"; }
# entry_lines TITLE VERSION OUT: the loader lines of the entry TITLE exactly as generated (OUT),
# checked against the documented shape for kernel VERSION
entry_lines() {
	local title=$1 v=$2 o=$3 rootarg i w got
	awk -v t="menuentry '$title'" 'index($0, t) { on = 1 } on { print } on && /^[ \t]*}/ { exit }' "$cfg" > "$o.entry"
	grep -E '^\s*(multiboot2|module2)\s' "$o.entry" | sed 's/^\s*//' > "$o"
	[ "$(wc -l < "$o")" = 3 ] || { cat "$o.entry"; hv_fail "expected 3 loader lines in '$title'"; }
	# root= as Debian's own 10_linux entry for the same kernel has it
	rootarg=$(grep -F "/boot/vmlinuz-$v root=" "$cfg" | grep -v module2 | head -1 | grep -o 'root=[^ ]*' || true)
	[ -n "$rootarg" ] || hv_fail "no 10_linux entry for $v"
	local want1="multiboot2	/boot/hvmon.elf $hvopts"
	local want2="module2	/boot/vmlinuz-$v guest-kernel $rootarg ro console=ttyS0,115200 panic=-1"
	local want3="module2	/boot/initrd.img-$v guest-initrd"
	for i in 1 2 3; do
		w=want$i; got=$(sed -n "${i}p" "$o")
		[ "$got" = "${!w}" ] || { cat "$o.entry"; hv_fail "'$title' line $i: got '$got', want '${!w}'"; }
	done
}
newest=$(printf '%s\n' "${kernels[@]}" | sort -V | tail -1)
entry_lines "Debian GNU/Linux, with hvmon" "$newest" "$work/lines-top"
for v in "${kernels[@]}"; do
	entry_lines "Debian GNU/Linux, with hvmon and Linux $v" "$v" "$work/lines-$v"
done
rootarg=$(grep -o 'root=[^ ]*' "$work/lines-top")
ok "update-grub: top entry ($newest) and one per kernel, lines = multiboot2 /boot/hvmon.elf \$GRUB_CMDLINE_HVMON; module2 vmlinuz guest-kernel $rootarg (as 10_linux) ro \$GRUB_CMDLINE_LINUX \$GRUB_CMDLINE_LINUX_DEFAULT (no nosmp: every CPU under hvmon); module2 initrd guest-initrd"

# default entry: only when the operator asks
sed -i 's/^HVMON_OVERRIDE_GRUB_DEFAULT=0/HVMON_OVERRIDE_GRUB_DEFAULT=1/' "$root/etc/default/grub.d/hvmon.cfg"
chroot "$root" grub-mkconfig -o /tmp/grub-default.cfg > /dev/null 2>&1 || hv_fail "grub-mkconfig failed"
grep -q '^   set default="Debian GNU/Linux, with hvmon"' "$root/tmp/grub-default.cfg" \
	|| hv_fail "HVMON_OVERRIDE_GRUB_DEFAULT=1 did not make hvmon the default: $(grep -m1 'set default=' "$root/tmp/grub-default.cfg")"
sed -i 's/^HVMON_OVERRIDE_GRUB_DEFAULT=1/HVMON_OVERRIDE_GRUB_DEFAULT=0/' "$root/etc/default/grub.d/hvmon.cfg"
ok "HVMON_OVERRIDE_GRUB_DEFAULT=1 makes 'Debian GNU/Linux, with hvmon' the default"

# a host without GRUB: the install must not fail
mv "$root/usr/sbin/update-grub" "$root/usr/sbin/update-grub.off"
chroot "$root" dpkg -i "/tmp/$(basename "$deb")" > "$work/dpkg-i-nogrub.log" 2>&1 || { cat "$work/dpkg-i-nogrub.log"; hv_fail "dpkg -i without update-grub failed"; }
mv "$root/usr/sbin/update-grub.off" "$root/usr/sbin/update-grub"
[ "$(sha256sum < "$root/etc/hvmon/collect.key")" = "$key_sum" ] || hv_fail "reinstall (upgrade) changed the key"
ok "reinstall without update-grub succeeds; the key is kept"

# ---- 4. the unit ----------------------------------------------------------------------
systemd-analyze verify --root="$root" --man=no hvmon-collect.service > "$work/verify.txt" 2>&1 \
	|| { cat "$work/verify.txt"; hv_fail "systemd-analyze verify rejects hvmon-collect.service"; }
[ ! -s "$work/verify.txt" ] || { cat "$work/verify.txt"; hv_fail "systemd-analyze verify warns"; }
logrotate -d "$root/etc/logrotate.d/hvmon" > "$work/logrotate.txt" 2>&1 \
	|| { cat "$work/logrotate.txt"; hv_fail "logrotate rejects /etc/logrotate.d/hvmon"; }
grep -qi 'error' "$work/logrotate.txt" && { cat "$work/logrotate.txt"; hv_fail "logrotate -d reports an error"; }
ok "systemd-analyze verify accepts hvmon-collect.service; logrotate -d accepts /etc/logrotate.d/hvmon"

# ---- 5. boot the generated entry, collector as the unit runs it -----------------------
# systemd: EnvironmentFile=/etc/hvmon/collect.conf, LoadCredential=collect.key:/etc/hvmon/collect.key
sed -i "s|^LISTEN=.*|LISTEN=127.0.0.1:$port|; s|^OPTIONS=.*|OPTIONS=--quiet|" "$root/etc/hvmon/collect.conf"
mkdir -p "$root/run/credentials/hvmon-collect.service" "$root/var/log/hvmon"
cp "$root/etc/hvmon/collect.key" "$root/run/credentials/hvmon-collect.service/collect.key"
execstart=$(sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/hvmon-collect.service")
[ -n "$execstart" ] || hv_fail "no ExecStart in the unit"
mapfile -t argv < <(python3 tests/integration/pkg_unit_argv.py "$execstart" "$root/etc/hvmon/collect.conf" \
	CREDENTIALS_DIRECTORY=/run/credentials/hvmon-collect.service)
echo "collector: ${argv[*]}"
chroot "$root" "${argv[@]}" 2> "$work/collect.err" &
cpid=$!
trap 'kill $cpid 2>/dev/null || true' EXIT
iso=$work/entry.iso
stage=$work/iso; mkdir -p "$stage/boot/grub"
# the submenu entry of the pinned 6.1 cloud kernel (the reference guest; the newest, 6.12,
# is the top entry and has the same shape, checked above)
cp "$root/boot/hvmon.elf" "$root/boot/vmlinuz-$KV" "$root/boot/initrd.img-$KV" "$stage/boot/"
{
	echo "set timeout=0"; echo "serial --unit=0 --speed=115200"; echo "terminal_output serial console"
	echo "menuentry 'generated hvmon entry' {"
	echo "  echo 'GRUB: booting hvmon'"
	cat "$work/lines-$KV"
	echo "  boot"
	echo "}"
} > "$stage/boot/grub/grub.cfg"
grub-mkrescue -d /usr/lib/grub/i386-pc -o "$iso" "$stage" > "$work/mkrescue.log" 2>&1 || { cat "$work/mkrescue.log"; hv_fail "grub-mkrescue"; }
# logrotate's part while events flow: rename the file, then its postrotate's SIGHUP
# (systemctl kill --signal=HUP): the collector must reopen OUTPUT and go on
out=$root/var/log/hvmon/events.jsonl
( wait_marker "$out" '"event":"exec"' 7200 && mv "$out" "$out.1" && kill -HUP $cpid && echo "rotated at $(wc -l < "$out.1") events" ) > "$work/rotate.log" 2>&1 &
rpid=$!
hv_run pkg-entry --iso "$iso" --timeout "$HV_TIMEOUT" --fail-on "guest:$HV_GUEST_FATAL" \
	--extra 'pci: enabled=1, chipset=i440fx' --extra 'e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=slirp'
assert_status exit marker
# (hvmon prints the key redacted: compare up to it)
assert_marker hvmon "command line \"$(printf '%s' "${hvopts% key=*} key=" | sed 's/[.[\*^$]/\\&/g')" "hvmon got GRUB_CMDLINE_HVMON"
assert_marker guest 'HVMON-GUEST: userspace reached' "guest userspace"
assert_marker guest 'HVMON-GUEST: scenario boot exit=0' "boot scenario passed"
assert_marker hvmon 'hvmon: monitor proctrace: on' "tracer on"
assert_marker hvmon 'hvmon: net: wire version 1, ChaCha20-Poly1305 \(wire_aead=chacha20-poly1305;' "wire version 1 forced"
assert_marker hvmon 'hvmon: net: seal paths: [1-9][0-9]* datagrams with SSE2 .*, 0 portable' "version 1 sealed with SSE2 ChaCha20 in ring -1"
nexec=$(json_events hvmon exec | wc -l)
[ "$nexec" -gt 0 ] || hv_fail "no exec event on hvmon's console"
sleep 2; kill $cpid 2>/dev/null || true; wait $cpid 2>/dev/null || true; trap - EXIT
kill $rpid 2>/dev/null || true; wait $rpid 2>/dev/null || true
grep -q '^rotated at [1-9]' "$work/rotate.log" || hv_fail "no rotation happened: $(cat "$work/rotate.log")"
[ -s "$out" ] || { cat "$work/collect.err"; hv_fail "after SIGHUP the collector wrote nothing to a new /var/log/hvmon/events.jsonl"; }
[ "$(stat -c %a "$out")" = 600 ] || hv_fail "events.jsonl mode $(stat -c %a "$out")"
cat "$out.1" "$out" > "$work/events-all.jsonl"
python3 - "$RUN_DIR/hvmon.log" "$work/events-all.jsonl" <<'PY' || hv_fail "collector events differ from the console's"
import json, sys
drop = {"sender", "sender_id", "boot", "seq", "rec"}
con = [json.loads(l[l.index('{"event":'):]) for l in open(sys.argv[1], errors="replace") if '{"event":' in l]
col = [json.loads(l) for l in open(sys.argv[2])]
col = [{k: v for k, v in e.items() if k not in drop} for e in col if e["event"] != "heartbeat"]
key = lambda e: json.dumps(e, sort_keys=True)
want = sorted(map(key, (e for e in con if e["event"] in ("exec", "fork", "exit"))))
got = sorted(map(key, (e for e in col if e["event"] in ("exec", "fork", "exit"))))
print(f"console: {len(want)} exec/fork/exit events; collector: {len(got)}")
missing = set(want) - set(got)
if missing or not want:
    print("missing at the collector:", list(missing)[:3]); sys.exit(1)
PY
grep -Eq 'summary: .* lost 0 .* duplicates 0 forged 0 malformed 0 replays 0 ' "$work/collect.err" \
	|| hv_fail "collector summary: $(grep -m1 'summary' "$work/collect.err" || tail -3 "$work/collect.err")"
ok "Bochs booted the generated entry: guest userspace, $nexec exec events; the collector (unit ExecStart + collect.conf) received them, across a rotation ($(cat "$work/rotate.log")) + SIGHUP"

# ---- 6. hvmon-efi-install (the installed script, files from the root) ------------------
inst="$root/usr/sbin/hvmon-efi-install"
esp=$work/esp.img
truncate -s 64M "$esp"; mformat -i "$esp" -v TESTESP -T $((64 * 2048)) -h 16 -s 32 ::
stub=$work/stubbin; mkdir -p "$stub"
cat > "$stub/efibootmgr" <<STUB
#!/bin/sh
echo "\$*" >> "$work/efibootmgr.calls"
case " \$* " in *" --create-only "*) echo created > "$work/efibootmgr.state" ;; esac
echo "BootCurrent: 0001"; echo "BootOrder: 0001,0002"
echo "Boot0001* debian	HD(1,GPT)/File(\\\\EFI\\\\debian\\\\shimx64.efi)"
[ -f "$work/efibootmgr.state" ] && echo "Boot0003* hvmon	HD(1,GPT)/File(\\\\EFI\\\\hvmon\\\\hvmon.efi)"
exit 0
STUB
chmod +x "$stub/efibootmgr"
common=(--root "$root" --esp "$esp" --kernel "$KV" --cmdline "console=ttyS0,115200 panic=-1" --disk /dev/sdz --part 1)
PATH="$stub:$PATH" "$inst" "${common[@]}" --dry-run > "$work/efi-dry.txt" || hv_fail "--dry-run failed"
grep -q 'would run: efibootmgr --create-only' "$work/efi-dry.txt" || hv_fail "--dry-run does not show the efibootmgr call"
mdir -i "$esp" ::/hvmon >/dev/null 2>&1 && hv_fail "--dry-run wrote to the ESP"
[ -e "$work/efibootmgr.calls" ] && grep -q -- '--create' "$work/efibootmgr.calls" && hv_fail "--dry-run called efibootmgr --create"
if PATH="$stub:$PATH" "$inst" "${common[@]/$esp/$work/no-such-esp}" > "$work/efi-noesp.txt" 2>&1; then hv_fail "no ESP: succeeded"; fi
grep -q 'no EFI System Partition' "$work/efi-noesp.txt" || hv_fail "no ESP: $(cat "$work/efi-noesp.txt")"
nobin=$work/nobin; mkdir -p "$nobin"; for t in bash mdir mcopy mmd findmnt mktemp cat sed basename dirname uname rm install readlink; do ln -sf "$(command -v $t)" "$nobin/"; done
if PATH="$nobin" "$inst" "${common[@]}" > "$work/efi-nomgr.txt" 2>&1; then hv_fail "no efibootmgr: succeeded"; fi
grep -q 'efibootmgr is not installed' "$work/efi-nomgr.txt" || hv_fail "no efibootmgr: $(cat "$work/efi-nomgr.txt")"
mdir -i "$esp" ::/hvmon >/dev/null 2>&1 && hv_fail "failed install wrote to the ESP"
PATH="$stub:$PATH" "$inst" "${common[@]}" --options "console=com2 log=debug" > "$work/efi.txt" || hv_fail "hvmon-efi-install failed"
for f in EFI/hvmon/hvmon.efi hvmon/hvmon.elf "hvmon/vmlinuz-$KV" "hvmon/initrd.img-$KV" hvmon/hvmon.cfg; do
	mdir -i "$esp" "::/$f" >/dev/null 2>&1 || hv_fail "ESP lacks $f"
done
mtype -i "$esp" ::/hvmon/hvmon.cfg > "$work/hvmon.cfg"
grep -qx "kernel = \\\\hvmon\\\\vmlinuz-$KV" "$work/hvmon.cfg" && grep -qx 'console = com2' "$work/hvmon.cfg" \
	&& grep -qx 'cmdline = console=ttyS0,115200 panic=-1' "$work/hvmon.cfg" || { cat "$work/hvmon.cfg"; hv_fail "hvmon.cfg content"; }
grep -qx -- "--create-only --disk /dev/sdz --part 1 --label hvmon --loader \\\\EFI\\\\hvmon\\\\hvmon.efi" "$work/efibootmgr.calls" \
	|| { cat "$work/efibootmgr.calls"; hv_fail "efibootmgr call"; }
grep -q -- '--bootnext\|--bootorder\|^-c \|--create ' "$work/efibootmgr.calls" && hv_fail "BootNext/BootOrder changed without being asked"
PATH="$stub:$PATH" "$inst" "${common[@]}" > "$work/efi2.txt" || hv_fail "second hvmon-efi-install failed"
[ "$(grep -c -- '--create-only' "$work/efibootmgr.calls")" = 1 ] || hv_fail "second run created another entry"
ok "hvmon-efi-install: dry-run writes nothing; no ESP / no efibootmgr fail closed; files + hvmon.cfg on the FAT image; entry --create-only (BootOrder, BootNext untouched), reused on a rerun"

# ---- 7. remove, reinstall, purge ------------------------------------------------------
chroot "$root" dpkg -r hvmon > "$work/dpkg-r.log" 2>&1 || { cat "$work/dpkg-r.log"; hv_fail "dpkg -r failed"; }
grep -q "menuentry '.*with hvmon" "$cfg" && hv_fail "hvmon entries left after dpkg -r"
[ "$(sha256sum < "$root/etc/hvmon/collect.key" 2>/dev/null)" = "$key_sum" ] || hv_fail "dpkg -r removed or changed the key"
chroot "$root" dpkg -i "/tmp/$(basename "$deb")" > "$work/dpkg-i2.log" 2>&1 || hv_fail "reinstall failed"
[ "$(sha256sum < "$root/etc/hvmon/collect.key")" = "$key_sum" ] || hv_fail "reinstall changed the key"
grep -q "with hvmon" "$cfg" || hv_fail "reinstall: no entries"
chroot "$root" dpkg --purge hvmon > "$work/dpkg-purge.log" 2>&1 || { cat "$work/dpkg-purge.log"; hv_fail "dpkg --purge failed"; }
grep -q hvmon "$cfg" && hv_fail "hvmon left in grub.cfg after purge: $(grep -m1 hvmon "$cfg")"
[ -e "$root/etc/hvmon" ] && hv_fail "/etc/hvmon left after purge: $(ls -la "$root/etc/hvmon")"
[ -e "$root/etc/grub.d/25_hvmon" ] && hv_fail "/etc/grub.d/25_hvmon left after purge"
ok "dpkg -r: entries gone, key kept; reinstall: same key; purge: entries, key, /etc/hvmon, generator gone"

hv_pass "package: lintian clean, installed in a Debian root, generated GRUB entry booted monitored in Bochs with the collector service's command, remove/purge, hvmon-efi-install"

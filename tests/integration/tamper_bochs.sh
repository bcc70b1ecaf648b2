#!/usr/bin/env bash
# Issues 17/18, one Bochs boot (GRUB/Multiboot2 path): a TAMPERED hvmon configuration
# (monitors=none, as a guest root that edits grub.cfg would leave it) with the network
# channel on, and a collector holding the expected profile for this sender:
#  - the collector raises its alarm (every required monitor off, options differ), exit 64+32,
#    and the boot_config event's kernel/initrd SHA-256 equal sha256sum of the files booted;
#  - the profile is written by hvmon-collect --make-profile from the files and the options as
#    installed: its hvmon/kernel hashes match the boot, its initrd rule (gunzip) too;
#  - key hygiene: hvmon prints key=<set>, never the key; it wiped the key's copies from
#    guest RAM before the first VM entry; a guest module scanning ALL guest RAM
#    (tests/guest/keyscan) finds 0 copies (and finds its own control text: the scan works).
#  - issue 17 on a CPU with AVX-512 (Bochs's corei7_skylake_x; none of the checks above depends
#    on the CPU model): the guest's XSAVE is on with AVX-512 (hvmon corrects Bochs 2.7's
#    CPUID.(0DH,1).EBX), hvmon's clock comes from PIT channel 2, not from the model's wrong
#    CPUID 0x16 (3.5 GHz; Bochs's TSC runs at ips), and hvtest's XCR0 attack runs with
#    AVX-512: partial AVX-512 values #GP (refused by hvmon's rules), the AVX-512 states
#    turned off and on again are performed. The guest gets tsc_early_khz= (the kernel's own
#    documented cure for a CPUID 0x16 it cannot trust), else its delays run 17 times long.
#  - ACPI SystemIO C-states: hvmon finds the P_BLK of Bochs's Processor() objects (SSDT, 0xb010)
#    and completes reads of P_LVL2/P_LVL3 (0xb014/0xb015) at once; the guest module hvspec reads
#    both (as an OS entering C2/C3 does) and goes on.
# The UEFI path (a tampered \hvmon\hvmon.cfg, e1000 under OVMF) is uefi_bochs_guest.sh.
set -uo pipefail
: "${HV_TIMEOUT:=900}"
. "$(dirname "$0")/../bochs/lib.sh"
top=$HV_TOP
B=$top/build
name=tamper
make -C "$top" -s build/hvmon.elf build/tools/hvmon-collect build/tools/hvmon-collect-sim >/dev/null || hv_fail "build failed"
ko=$("$top/tests/guest/build-module.sh" "$top/tests/guest/keyscan" | tail -1)
[ -f "$ko" ] || hv_fail "hvkeyscan.ko did not build"
hvko=$("$top/tests/guest/build-module.sh" "$top/tests/guest/hvtest" | tail -1)
[ -f "$hvko" ] || hv_fail "hvtest.ko did not build"
spko=$("$top/tests/guest/build-module.sh" "$top/tests/guest/hvspec" | tail -1)
[ -f "$spko" ] || hv_fail "hvspec.ko did not build"
IPS=200000000
T=$(mktemp -d /tmp/tamper.XXXXXX)
CPID=
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"; [ -n "$CPID" ] && kill $CPID 2>/dev/null' EXIT
"$B/tools/hvmon-collect" --genkey "$T/key" 2>/dev/null || hv_fail "genkey"
KEY=$(tr -d '\n' < "$T/key")
REV=$(printf '%s' "$KEY" | rev)
kernel=$(hv_fixture_kernel cloud) || hv_fail "kernel fixture"
KSHA=$(sha256sum "$kernel" | cut -d' ' -f1)
freeport() { local p; while :; do p=$(( 20000 + RANDOM % 30000 )); ss -Hlun "sport = :$p" | grep -q . || { echo $p; return; }; done; }
P=$(freeport)
# the profile, as an operator writes it without booting (hvmon-collect --make-profile):
# the deployed hvmon.elf and kernel, the options as installed (every monitor on); the
# sender id is the low 4 bytes of the MAC 52:54:00:12:34:56
GOOD_OPTS="console=com2 log=info monitors=all collector=10.0.2.2:$P key=$KEY ip=dhcp"
BAD_OPTS="console=com2 log=info monitors=none collector=10.0.2.2:$P key=$KEY ip=dhcp"
"$B/tools/hvmon-collect" --make-profile 0x00123456 --hvmon "$B/hvmon.elf" --kernel "$kernel" \
  --options "$GOOD_OPTS" | grep -v '^#' > "$T/profile" || hv_fail "hvmon-collect --make-profile"
cat "$T/profile"
BAD_OSHA=$("$B/tools/hvmon-collect" --make-profile 0x00123456 --options "$BAD_OPTS" | sed -n 's/.*options_sha256=//p')
HSHA=$(sed -n 's/.*hvmon_sha256=\([0-9a-f]*\).*/\1/p' "$T/profile")
"$B/tools/hvmon-collect" --listen 127.0.0.1:$P --key "$T/key" --out "$T/out" --timeout $HV_TIMEOUT \
  --silence 100000 --profile "$T/profile" 2>"$T/err" &
CPID=$!
# issue 17 (docs/SECURITY.md, hostile-guest suite): a guest root that read the key from the disk
# forges a new session for this sender (seq 1, a new boot nonce) once the guest is up; the genuine
# boot's later datagrams (heartbeats) must still be written, and the collector must raise its
# two-live-boots alarm
rm -f "$top/build/runs/$name/guest.log"
( for _ in $(seq 1 1200); do grep -aq 'HVMON-GUEST: userspace reached' "$top/build/runs/$name/guest.log" 2>/dev/null && break; sleep 0.5; done
  "$B/tools/hvmon-collect-sim" --to 127.0.0.1:$P --key "$T/key" --events 3 --sender 0x00123456 > "$T/forger" 2>&1 ) &
FPID=$!
hv_boot "$name" --scenario keyscan --modules "$ko $hvko $spko" --megs 256 \
  --cpu-model corei7_skylake_x --ips $IPS \
  --hv-opts "$BAD_OPTS" \
  --cmdline "console=ttyS0,115200 panic=-1 loglevel=7 keyscan=$REV tsc_early_khz=$((IPS / 1000)) hvtest_xcr0=1 plvl=0xb014,0xb015 hvcstate=0xb014" \
  --extra 'pci: enabled=1, chipset=i440fx' \
  --extra "e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=slirp"
sleep 1
kill $FPID 2>/dev/null; wait $FPID 2>/dev/null
kill -TERM $CPID 2>/dev/null; wait $CPID; crc=$?; CPID=
tr -d '\000\r' < "$RUN_DIR/hvmon.log" > "$T/hvmon"; tr -d '\000\r' < "$RUN_DIR/guest.log" > "$T/guest"
initrd=$B/initramfs/$name.cpio.gz
# GRUB's module2 decompresses a gzip module unless --nounzip: hvmon measures what was loaded
ISHA=$(zcat "$initrd" | sha256sum | cut -d' ' -f1)
# --make-profile's initrd rule (multiboot2: gzip hashed decompressed), on the initrd booted
TSHA=$("$B/tools/hvmon-collect" --make-profile 0x00123456 --initrd "$initrd" | sed -n 's/.*initrd_sha256=//p')
grep -a 'alarm:' "$T/err" | head -6
grep -a 'measure:\|key: \|command line' "$T/hvmon" | head -5
grep -a 'HVMON-GUEST: keyscan\|scenario keyscan' "$T/guest"
fails=0
check() { local d=$1; shift; if "$@"; then echo "ok   - $d"; else echo "FAIL - $d"; fails=$((fails + 1)); fi; }
check "run ended by the guest's power-off (status $RUN_STATUS)" test "$RUN_STATUS" = exit
check "collector: alarm for each required monitor that is off (5: tracer, hang, ret2usr, keylogger, integrity)" \
  test "$(grep -c 'alarm: sender 00123456 .*profile: monitor .* is off' "$T/err")" = 5
check "collector: exit 64+32 (got $crc)" test $(( (crc - 64) & 32 )) = 32
check "boot_config is the first record of the boot (seq 1, rec 0), monitors=\"\"" \
  grep -qE '^\{"event":"boot_config","sender":"[^"]*","sender_id":1193046,"boot":"[0-9a-f]{24}","seq":1,"rec":0,.*"monitors":"","loader":"multiboot2"' "$T/out"
check "measured kernel = sha256sum of the booted bzImage" grep -q "\"kernel_sha256\":\"$KSHA\"" "$T/out"
check "measured initrd = sha256sum of the initramfs as GRUB loaded it (decompressed)" grep -q "\"initrd_sha256\":\"$ISHA\"" "$T/out"
check "no hvmon/kernel hash alarm (--make-profile's hashes match the boot)" \
  bash -c "! grep -q 'hvmon_sha256\|kernel_sha256' '$T/err'"
check "measured hvmon = --make-profile's hvmon_sha256 of build/hvmon.elf" grep -q "\"hvmon_sha256\":\"$HSHA\"" "$T/out"
check "--make-profile's initrd_sha256 (GRUB rule: gunzip) = the measured one" test "$TSHA" = "$ISHA"
check "collector: options alarm; measured options = --make-profile of the tampered options" \
  grep -q "alarm: sender 00123456 .*profile: options_sha256 $BAD_OSHA, expected" "$T/err"
check "hvmon prints key=<set>" grep -aq 'key=<set>' "$T/hvmon"
check "the key appears in no log" bash -c "! grep -aqi '$KEY' '$T/hvmon' '$T/guest' '$RUN_DIR/e9.log'"
check "hvmon wiped the key's copies from guest RAM before the first VM entry" \
  grep -aqE 'key: [1-9][0-9]* cop(y|ies) of key= wiped from guest RAM' "$T/hvmon"
check "guest RAM scan: 0 copies of the key, control text found" \
  grep -aqE 'HVMON-GUEST: keyscan hits=0 control=[1-9][0-9]* pages=[1-9]' "$T/guest"
check "guest scenario passed" grep -aq 'HVMON-GUEST: scenario keyscan exit=0' "$T/guest"
# the forged session: the genuine boot is the one whose boot_config was datagram 1
GB=$(sed -n 's/^{"event":"boot_config",.*"boot":"\([0-9a-f]*\)".*/\1/p' "$T/out" | head -1)
FB=$(grep -o '"sender_id":1193046,"boot":"[0-9a-f]*"' "$T/out" | grep -v "$GB" | head -1 | sed 's/.*"boot":"\([0-9a-f]*\)"/\1/')
first_forged=$(grep -n "\"boot\":\"${FB:-none}\"" "$T/out" | head -1 | cut -d: -f1)
last_genuine=$(grep -n "\"boot\":\"${GB:-none}\"" "$T/out" | tail -1 | cut -d: -f1)
echo "# forged boot ${FB:-none} first at line ${first_forged:-?}, genuine boot ${GB:-none} last at line ${last_genuine:-?}"
check "forged session (the key from the disk): its 3 events written as a new boot" \
  test "$(grep -c "\"boot\":\"${FB:-none}\"" "$T/out")" = 3
check "collector: two-live-boots alarm for sender 00123456" grep -aq 'alarm: sender 00123456 has two live boots' "$T/err"
check "genuine events still written after the forged session" \
  test "${last_genuine:-0}" -gt "${first_forged:-999999}"
# issue 17, AVX-512 XCR0 (corei7_skylake_x)
grep -a 'x86/fpu: Enabled\|XSAVE consistency\|HVTEST: xcr0' "$T/guest"
grep -a 'cpuid: CPUID\|tick: TSC\|refused: AVX-512\|denied requests' "$T/hvmon"
check "guest XSAVE on with AVX-512, compacted (no 'XSAVE consistency problem')" \
  bash -c "grep -aqE 'x86/fpu: Enabled xstate features 0x[0-9a-f]*e7, context size is [0-9]+ bytes, using .compacted. format' '$T/guest' && ! grep -aq 'XSAVE consistency problem' '$T/guest'"
check "hvmon corrected CPUID.(0DH,1).EBX to the compacted size (Bochs 2.7 reports the standard one)" \
  grep -aqE 'cpuid: CPUID.\(0DH,1\).EBX 2688 is not the compacted size of XCR0.XSS 0xe7 \(2432' "$T/hvmon"
khz=$(sed -nE 's/.*tick: TSC ([0-9]+) kHz.*/\1/p' "$T/hvmon" | head -1)
check "hvmon's TSC rate from the PIT (${khz:-?} kHz, Bochs ips $IPS), CPUID 0x16's 3.5 GHz not used" \
  bash -c "[ $(( ${khz:-0} > IPS / 1000 * 99 / 100 && ${khz:-0} < IPS / 1000 * 101 / 100 )) = 1 ] &&
    grep -aqE 'tick: TSC [0-9]+ kHz \(PIT channel 2 \(50 ms\); CPUID 0x16 says 3500000 kHz, [0-9.]+% off: not used\)' '$T/hvmon'"
check "XCR0 attack with AVX-512: 14/14 bad values #GP, XCR0 0xe7 unchanged" \
  grep -aq 'HVTEST: xcr0_bad_refused=14/14 xcr0_unchanged=1 xcr0=0xe7' "$T/guest"
check "AVX-512 states turned off and on again: performed (3/3 legal values)" \
  grep -aq 'HVTEST: xcr0_good_accepted=3/3 avx512=1' "$T/guest"
check "partial AVX-512 values refused by hvmon's rules (0x27, 0x67: 5-7 together; 0xe1, 0xe3: needs SSE+AVX)" \
  bash -c "[ \$(grep -ac 'refused: AVX-512 bits 5-7 go together' '$T/hvmon') = 2 ] &&
    [ \$(grep -ac 'refused: AVX-512 (bits 5-7) needs SSE and AVX' '$T/hvmon') = 2 ]"
check "denied totals: xcr0 14" grep -aqE '^hvmon: denied requests, vCPU 0: .*xcr0 14( |$)' "$T/hvmon"
# issue 17, ACPI SystemIO C-states (Bochs's P_BLK 0xb010)
grep -a 'C-state' "$T/hvmon"
check "hvmon found Bochs's P_BLK 0xb010 (SSDT Processor objects) and traps P_LVL2/P_LVL3" \
  grep -aq 'C-states: P_BLK 0xb010: reads of P_LVL2 0xb014 and P_LVL3 0xb015 become HLT-like waits' "$T/hvmon"
check "the guest's P_LVL2 and P_LVL3 reads: not performed (read 0), reported" \
  bash -c "grep -aqE 'HVSPEC: port 0xb014 read 0(x0)?\$' '$T/guest' && grep -aqE 'HVSPEC: port 0xb015 read 0(x0)?\$' '$T/guest' &&
    grep -aq 'C-state: vCPU0 read P_LVL2 (port 0xb014): not performed' '$T/hvmon' &&
    grep -aq 'C-state: vCPU0 read P_LVL3 (port 0xb015): not performed' '$T/hvmon'"
# the idle loop (hvspec cstate_loop, 100 entries with interrupts off): each read waits in HLT for an
# interrupt (>= 100 us: 90 of 100 at least), the loop spans about one timer interrupt per entry
# (>= 50 jiffies' worth), and the guest's two clocks agree across it (jiffies vs ktime within 20 %)
cl=$(sed -nE 's/.*HVSPEC: cstate port 0xb014 loops=100 waited=([0-9]+) longest_us=([0-9]+) ktime_ms=([0-9]+) jiffies_ms=([0-9]+) HZ=([0-9]+)$/\1 \2 \3 \4 \5/p' "$T/guest" | tail -1)
echo "C-state idle loop (waited longest_us ktime_ms jiffies_ms HZ): ${cl:-none}"
check "idle loop through P_LVL2: 100 reads waited for an interrupt, timers agree (${cl:-no line})" \
  bash -c "[ -n '$cl' ] && set -- $cl && [ \$1 -ge 90 ] && [ \$4 -ge \$(( 50 * 1000 / \$5 )) ] &&
    [ \$(( \$3 * 10 )) -ge \$(( \$4 * 8 )) ] && [ \$(( \$3 * 10 )) -le \$(( \$4 * 12 )) ]"
cs=$(sed -nE 's/^hvmon: C-state: ([0-9]+) waits \(([0-9]+) ended by an external-interrupt exit, ([0-9]+) by the APIC poll, ([0-9]+) otherwise\).*/\1 \2 \3 \4/p' "$T/hvmon" | tail -1)
check "hvmon: >= 102 P_LVL reads, >= 100 waits, every wait ended (waits exit poll other: ${cs:-none})" \
  bash -c "grep -aqE '^hvmon: C-state: (10[2-9]|1[1-9][0-9]|[2-9][0-9]{2}|[0-9]{4,}) P_LVL2/P_LVL3 reads' '$T/hvmon' &&
    [ -n '$cs' ] && set -- $cs && [ \$1 -ge 100 ] && [ \$(( \$2 + \$3 + \$4 )) -ge \$(( \$1 - 1 )) ]"
echo "tamper_bochs: $fails failure(s)"
[ -n "${KEEP:-}" ] && echo "kept $T"
[ $fails = 0 ] && hv_pass "tampered config alarmed; key absent from guest RAM and logs" || hv_fail "$fails check(s) failed"

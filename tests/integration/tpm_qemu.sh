#!/usr/bin/env bash
# Issue 17 (docs/SECURITY.md "TPM key source"): the event key sealed in a TPM 2.0, unsealed by
# hvmon.efi only for the measured configuration, in QEMU TCG + OVMF + swtpm (TCG has no VMX: the
# proof is the loader's part, before its VT-x check; no_vtx = refuse then stops every boot).
#   A. key_tpm set, no sealed file yet: hvmon.efi extends PCR 9 with hvmon.cfg and hvmon.elf and
#      prints PCRs 0,2,4,7,9; its PCR 9 equals what hvmon-tpm-seal computes from the ESP's files;
#      clear error for the missing file. The printed PCRs are what the key is then sealed to
#      (hvmon-tpm-seal on the host, tpm2-tools talking to the same swtpm state).
#   B. the sealed file: the key is unsealed (key=<set>, never printed), PCR 9 closed with a
#      separator, a second unseal refused by the TPM (policy check failed).
#   C. hvmon.cfg changed (one more line): unseal refused with a clear error, no guest.
#   D. hvmon.elf changed (one byte appended): refused the same way.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
make -s build/uefi/hvmon.efi build/hvmon.elf build/tools/hvmon-collect >/dev/null || { echo "FAIL: build"; exit 1; }
for t in swtpm tpm2_createprimary tpm2_create tpm2_createpolicy qemu-system-x86_64 python3; do
  command -v $t >/dev/null || { echo "FAIL: $t missing (tools/deps.sh installs swtpm and tpm2-tools)"; exit 1; }
done
T=$(mktemp -d /tmp/tpm-qemu.XXXXXX)
SWPID=
cleanup() { [ -n "$SWPID" ] && kill "$SWPID" 2>/dev/null; [ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"; }
trap cleanup EXIT
TMO=${TPM_QEMU_TIMEOUT:-90}
read -r kernel initrd < <(boot/uefi/esp-fixtures.sh)
esp=$T/esp
mkdir -p "$esp/EFI/BOOT" "$esp/hvmon" "$T/tpm"
cp build/uefi/hvmon.efi "$esp/EFI/BOOT/BOOTX64.EFI"
cp build/hvmon.elf "$esp/hvmon/hvmon.elf"
cp "$kernel" "$esp/hvmon/vmlinuz"; cp "$initrd" "$esp/hvmon/initrd"
build/tools/hvmon-collect --genkey "$T/key" 2>/dev/null || { echo "FAIL: genkey"; exit 1; }
KEY=$(tr -d '\n' < "$T/key")
cat > "$esp/hvmon/hvmon.cfg" <<'CFG'
kernel = \hvmon\vmlinuz
initrd = \hvmon\initrd
cmdline = console=ttyS0,115200 panic=-1
key_tpm = \hvmon\key.tpm
collector = 10.0.2.2:5140
CFG
freeport() { local p; while :; do p=$(( 20000 + RANDOM % 30000 )); ss -Hltn "sport = :$p" | grep -q . || ss -Hltn "sport = :$((p + 1))" | grep -q . || { echo $p; return; }; done; }
fails=0
check() { local d=$1; shift; if "$@"; then echo "ok   - $d"; else echo "FAIL - $d"; fails=$((fails + 1)); fi; }

# boot NAME: swtpm (state $T/tpm) + QEMU/OVMF on the ESP; stops at hvmon.efi's STOPPED line
boot() {
  local name=$1 log=$T/$1.log qpid t=0
  swtpm socket --tpm2 --tpmstate dir="$T/tpm" --ctrl type=unixio,path="$T/swtpm.sock" \
    --terminate --log file="$T/swtpm-$name.log" & SWPID=$!
  for _ in $(seq 1 50); do [ -S "$T/swtpm.sock" ] && break; sleep 0.1; done
  : > "$log"
  QEMU_SERIAL=file:$log QEMU_MEM=512 QEMU_TIMEOUT=$TMO boot/uefi/run-qemu.sh "$esp" \
    -chardev socket,id=chrtpm,path="$T/swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
    -device tpm-tis,tpmdev=tpm0 > "$T/$name.qemu" 2>&1 & qpid=$!
  while kill -0 $qpid 2>/dev/null && [ $t -lt $((TMO * 2)) ]; do
    grep -aq 'STOPPED: no guest' "$log" && { sleep 0.5; break; }
    sleep 0.5; t=$((t + 1))
  done
  kill $qpid 2>/dev/null; wait $qpid 2>/dev/null
  kill $SWPID 2>/dev/null; wait $SWPID 2>/dev/null; SWPID=
  rm -f "$T/swtpm.sock"
  tr -d '\r' < "$log" > "$log.txt"
  grep -a 'hvmon.efi: TPM\|key_tpm\|ERROR' "$log.txt" | sed "s/^/  [$name] /"
}
# (case-insensitive: the firmware's Print writes %x in upper case, 0x99D)
has() { grep -aiqF -- "$2" "$T/$1.log.txt"; }

# A. no sealed file yet
boot A
check "A: hvmon.efi extended PCR 9 with hvmon.cfg and hvmon.elf" has A 'TPM: PCR 9 extended with hvmon.cfg and \hvmon\hvmon.elf'
P9=$(tools/hvmon-tpm-seal --esp "$esp" --print-pcr9)
check "A: PCR 9 as hvmon.efi measured it = hvmon-tpm-seal's value from the ESP files ($P9)" has A "TPM: PCR 9 sha256 $P9"
check "A: missing sealed file: clear error, no guest" \
  bash -c "grep -aqF 'ERROR: key_tpm = \\hvmon\\key.tpm: cannot open the sealed key file' '$T/A.log.txt' && grep -aqF 'STOPPED: no guest' '$T/A.log.txt'"
VALUES=$(sed -n 's/.*hvmon.efi: TPM: PCR \([0247]\) sha256 \([0-9a-f]\{64\}\).*/\1=\2/p' "$T/A.log.txt" | tr '\n' ' ')
check "A: PCRs 0, 2, 4, 7 printed" test "$(echo $VALUES | wc -w)" = 4

# seal on the host, to the printed values (tpm2-tools through swtpm's TCP interface)
P=$(freeport)
swtpm socket --tpm2 --tpmstate dir="$T/tpm" --server type=tcp,port=$P,bindaddr=127.0.0.1 \
  --ctrl type=tcp,port=$((P + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
  --log file="$T/swtpm-seal.log" & SWPID=$!
sleep 1
tools/hvmon-tpm-seal --esp "$esp" --key "$T/key" --pcr-values "$VALUES" \
  --tcti "swtpm:host=127.0.0.1,port=$P" > "$T/seal.out" 2>&1; src=$?
cat "$T/seal.out"
kill $SWPID 2>/dev/null; wait $SWPID 2>/dev/null; SWPID=
check "hvmon-tpm-seal sealed the key (PCRs 0,2,4,7,9)" test $src = 0 -a -s "$esp/hvmon/key.tpm"
check "the sealed file does not hold the key in clear text" bash -c "! grep -aqF '$KEY' '$esp/hvmon/key.tpm'"

# B. the sealed file, same configuration
boot B
check "B: key unsealed from the TPM (key=<set>)" has B 'TPM: event key unsealed (PCR mask 0x295): key=<set>'
check "B: PCR 9 closed, a second unseal refused (policy check failed)" \
  has B 'TPM: PCR 9 closed: a second unseal is refused (0x99d policy check failed'
check "B: the unsealed key reached hvmon's options" bash -c "grep -aE 'hvmon options in effect: .*key=<set>' '$T/B.log.txt' | grep -q ."
check "B: the key text is in no log" bash -c "! grep -aqF '$KEY' '$T/B.log.txt' '$T/B.qemu'"
check "B: then the VT-x verdict (TCG: no VMX, no_vtx = refuse)" has B 'VT-x is not usable'

# C. hvmon.cfg changed as a guest root would (monitors off)
cp "$esp/hvmon/hvmon.cfg" "$T/cfg.good"
echo 'monitors = none' >> "$esp/hvmon/hvmon.cfg"
boot C
check "C: changed hvmon.cfg: unseal refused (policy check failed), clear error, no guest" \
  bash -c "grep -aiqF 'TPM: unseal refused: 0x99d' '$T/C.log.txt' && grep -aqF 'changed since the key was sealed' '$T/C.log.txt' && grep -aqF 'STOPPED: no guest' '$T/C.log.txt'"
check "C: no key reached hvmon's options" bash -c "! grep -aqF 'key unsealed' '$T/C.log.txt'"

# D. hvmon.elf changed (one byte appended), hvmon.cfg as sealed
cp "$T/cfg.good" "$esp/hvmon/hvmon.cfg"
printf '\0' >> "$esp/hvmon/hvmon.elf"
boot D
check "D: changed hvmon.elf: unseal refused, no guest" \
  bash -c "grep -aiqF 'TPM: unseal refused: 0x99d' '$T/D.log.txt' && grep -aqF 'STOPPED: no guest' '$T/D.log.txt'"
echo "tpm_qemu: $fails failure(s)"
[ $fails = 0 ] && echo "PASS: TPM key source (seal, unseal for the measured configuration only, PCR 9 closed)" || { echo "FAIL: $fails check(s)"; exit 1; }

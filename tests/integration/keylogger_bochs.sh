#!/usr/bin/env bash
# docs/MONITORS.md "Keylogger detector": the keylogger detector in Bochs (tests/bochs/rfbkeys.py types through Bochs's RFB server).
# Boot 1 (monitors=keylogger, K=8, keylogger_allow = the default list + kl-allowed): the guest starts a
# shell reading /dev/tty1 (comm sh, allowed by default), the test keylogger hvkeylog reading the keyboard's
# /dev/input/eventN (not allowed) and a copy of it named kl-allowed (allowed by the option). The host
# types two lines (30 keys, >= 2K). Requires:
#   - exactly one `keylogger` event: hvkeylog, with the pid the guest printed, device "input",
#     keystrokes >= K; none for sh (tty) nor kl-allowed (input), which hvmon must have seen consuming
#     every key (so "not reported" is not vacuous);
#   - hvmon's i8042 count of keystrokes (make codes) = the keys typed; each consumer's count = the keys typed;
#   - the guest got every key unchanged: both keyloggers' key codes and the shell's lines = what was typed.
# Boot 2 (monitors without keylogger), stopped at the first VM entry: port 0x60 is not in the I/O bitmap
# (hvmon prints it from the bitmap; no hook registered), so the keyboard costs no exit. The idle cost with
# the guest running is measured by tests/guest/keylogger/idle_bench.sh (docs/BENCHMARKS.md).
# KL_CPUS (default 2; issue 11 "the keylogger attributes keystrokes whichever CPU reads them"): boot 1 runs
# on 2 CPUs (guest without nosmp): hvkeylog pinned to CPU 1 and a copy named kl-cpu0 pinned to CPU 0 are
# each reported once, in an event with the `cpu` it read on (1 and 0); kl-allowed reads alternately on
# CPU 0 and CPU 1 (the guest prints the CPU of each key) and hvmon still counts every key for it.
# KL_CPUS=1: the one-CPU boot (one event, for hvkeylog).
# Issue 15 item 5 (same boot; guest kl_more=1): readers hvmon must also see and report — kl-preadv2
# (preadv2, first iovec empty), kl-int80 (the i386 read through `int $0x80`, 16-byte compat records),
# kl-late (its last reads 3 s after the keys: after the 1 s window, attributed by sequence), an evdev reader
# named `sh` and kl-allowed (in keylogger_allow=: a name never allows reading the input device); then
# kl-raw reads 10 more typed keys from the i8042 itself (`inw` at port 0x5f, keyboard IRQ off): the guest
# must get the typed scan codes, hvmon must see its INs as raw (not the driver's), count every key and
# report kl-raw with device "port" — although kl-raw read the command byte back (`out 0x64,0x20`), which
# leaves status bit 3 ("last write was a command") set while it reads the keys: hvmon watches the 0x64
# writes and takes a byte for a controller reply only while one is pending. kl-rename renames itself every
# 7 keys (K = 8) and is still reported, under its latest name (a reader is its tgid and identity, not its
# comm). kl-uring reads evdev through io_uring (the reads run in an io-wq worker thread of its process and
# return through no syscall): hvmon counts evdev events where the kernel copies them (input_event_to_user,
# inferred) and reports it (its tgid; comm kl-uring or the worker's iou-wrk-PID). Last (issue 15 item 5
# gaps A, B), once the shell and less are gone, kl-ttyuring reads tty1 through io_uring (IORING_OP_READ on
# the tty fd; not its controlling terminal): hvmon counts tty chunks where tty_read copies them (the
# call to _copy_to_iter, found from the code) and reports it (device tty, terminal other, every key),
# while the shell and less were judged at that point too, with the tty they read compared with their
# controlling terminal (a wrong tty location would report them).
# Then (issue 15 item 5, "another session's terminal") kl-otty, the foreground of its own controlling terminal
# (its own session on a new pty), read(2)s tty1: reported, device tty, terminal other, its chunk counted
# among those read from a tty that is not the reader's controlling terminal. While less runs, two evdev
# readers in tty1's foreground group: a copy named kl-allowed (in keylogger_allow=) is allowed while the
# background kl-allowed is reported (the display-server rule: the name and the foreground of the active
# console), kl-fgev (not in the list) is reported with terminal "foreground". Every report's console line is
# queued, not written in the exit (docs/EVENTS.md): one line per event, ticks per report printed.
# Each reader must have every key counted. Readers are judged by what they are:
# the shell on tty1 (setsid -c: tty1 is its controlling terminal, it is the foreground group) and then
# `less` in that group consuming 20 typed keys are not reported (hvmon read the guest's tty structures).
# KL_BUSY=1: boot 1 with a syscall-heavy background (dd bs=1 /dev/zero -> /dev/null: its reads must not count)
# for the cost under load (docs/BENCHMARKS.md "Keylogger"); boot 2 is skipped.
# Usage: tests/integration/keylogger_bochs.sh [cloud|6.12|generic]   (default cloud)
set -eu   # not pipefail: lib.sh greps with -q behind tr (SIGPIPE on big logs)
: "${HV_TIMEOUT:=600}"   # a bound only: boot 1 runs 2 CPUs (~2x the emulation per guest second)
. "$(dirname "$0")/../bochs/lib.sh"
FLAVOUR=${1:-cloud}
CPUS=${KL_CPUS:-2}
K=8
LINE1="type some keys"
LINE2="for hvmon 2468"
TEXT="$LINE1\\n$LINE2\\n"
NKEYS=$(( ${#LINE1} + ${#LINE2} + 2 ))
RAWLINE="raw 12345"
NRAW=$(( ${#RAWLINE} + 1 ))
LESSKEYS="jjjjjjjjjjjjjjjjjjjq"
NLESS=${#LESSKEYS}
TULINE="uring 13579"
NTU=$(( ${#TULINE} + 1 ))
OTLINE="other 2468"
NOT=$(( ${#OTLINE} + 1 ))
make -s -C "$HV_TOP" build/hvmon.elf build/tests/guest/hvkeylog >/dev/null || hv_fail "cannot build hvmon.elf / hvkeylog"
initrd=$(hv_fixture_initrd keylogger -m "$HV_TOP/build/tests/guest/hvkeylog" -k evdev --kernel "$FLAVOUR" --no-load \
  -o "$HV_TOP/build/initramfs/keylogger-$FLAVOUR.cpio.gz") || exit 1
for _ in $(seq 1 120); do [ "$(pgrep -c bochs-bin || true)" -lt 2 ] && break; sleep 5; done

# boot NAME HVOPTS KEYS LINES: boot with the typist in the background; sets RUN_DIR
boot() {
  local name=$1 opts=$2 keys=$3 lines=$4 text=$5 run="$HV_TOP/build/runs/$1"
  rm -rf "$run"; mkdir -p "$run"
  python3 "$HV_BOCHS/rfbkeys.py" --bochs-log "$run/bochs.log" --wait-file "$run/guest.log" \
    --wait-re 'HVMON-GUEST: KEYLOG typing' --timeout "$HV_TIMEOUT" --delay 0.07 --hold --text "$text" \
    --ack-re 'HVMON-GUEST: KEYLOG key pid=([0-9]+) code=' \
    --then 'HVMON-GUEST: KEYLOG raw typing' "$RAWLINE\\n" \
    --then 'HVMON-GUEST: KEYLOG less typing' "$LESSKEYS" \
    --then 'HVMON-GUEST: KEYLOG tty uring typing' "$TULINE\\n" \
    --then 'HVMON-GUEST: KEYLOG other tty typing' "$OTLINE\\n" > "$HV_TOP/build/runs/$name.rfb" 2>&1 &
  local typist=$!
  hv_boot "$name" --kernel "$(hv_fixture_kernel "$FLAVOUR")" --initrd "$initrd" --hv-opts "$opts" \
    --cmdline "console=ttyS0,115200 panic=-1 loglevel=4 kl_keys=$keys kl_lines=$lines kl_busy=${KL_BUSY:-0} kl_cpus=$CPUS kl_more=1 kl_raw=$NRAW kl_tu=$NTU kl_ot=$NOT kl_less=$NLESS" \
    --cpus "$CPUS"
  wait "$typist" || { cat "$HV_TOP/build/runs/$name.rfb" >&2; hv_fail "$name: typing failed"; }
  cat "$HV_TOP/build/runs/$name.rfb"
  assert_status exit marker
  assert_no_marker hvmon 'guest crashed|PANIC|EXCEPTION in ring -1' "no crash"
  # Bochs dropped a typed scan code (its i8042 keeps 16 bytes): the typist outran the guest, not hvmon's fault
  assert_no_marker bochs 'internal keyboard buffer full' "$name: no scan code dropped by Bochs's keyboard"
  assert_marker guest 'HVMON-GUEST: keylogger scenario done rc=0' "$name: guest consumers finished"
  assert_marker hvmon 'hvmon: guest powered off' "$name: clean power-off"
}

# expected key codes (Linux KEY_*) of the typed text
codes=$(python3 - "$LINE1" "$LINE2" <<'PY'
import sys
rows = {'1234567890': 2, 'qwertyuiop': 16, 'asdfghjkl': 30, 'zxcvbnm': 44}
def code(c):
    if c == ' ': return 57
    if c == '\n': return 28
    for row, first in rows.items():
        if c in row: return first + row.index(c)
    raise SystemExit('no keycode for %r' % c)
print(','.join(str(code(c)) for c in sys.argv[1] + '\n' + sys.argv[2] + '\n'))
PY
)
# the raw phase's set-1 make codes equal the keycodes for these keys
rawcodes=$(python3 - "$RAWLINE" <<'PY'
import sys
rows = {'1234567890': 2, 'qwertyuiop': 16, 'asdfghjkl': 30, 'zxcvbnm': 44}
def code(c):
    if c == ' ': return 57
    if c == '\n': return 28
    for row, first in rows.items():
        if c in row: return first + row.index(c)
print(','.join(str(code(c)) for c in sys.argv[1] + '\n'))
PY
)

# ---- boot 1: keylogger on ----
boot keylogger-on "console=com2 log=info monitors=keylogger keylogger_k=$K keylogger_allow=sh,ash,bash,getty,agetty,login,kl-allowed" \
  "$NKEYS" 2 "$TEXT"
log() { tr -d '\000\r' < "$RUN_DIR/$1.log"; }
assert_marker hvmon 'monitor keylogger: on' "keylogger monitor on"
assert_marker hvmon 'keylogger: syscall exit site 0x' "syscall exit site found and probe-able"
kpid=$(log guest | sed -n 's/.*HVMON-GUEST: KEYLOG ready pid=\([0-9]*\) comm=hvkeylog .*/\1/p' | head -n1)
apid=$(log guest | sed -n 's/.*HVMON-GUEST: KEYLOG ready pid=\([0-9]*\) comm=kl-allowed .*/\1/p' | head -n1)
tpid=$(log guest | sed -n 's/.*HVMON-GUEST: TTY reader pid=\([0-9]*\).*/\1/p' | head -n1)
[ -n "$kpid" ] && [ -n "$apid" ] && [ -n "$tpid" ] || hv_fail "guest consumers did not start (hvkeylog '$kpid', kl-allowed '$apid', sh '$tpid')"
# the guest received every key unchanged
for c in hvkeylog kl-allowed kl-preadv2 kl-int80 kl-late sh kl-uring; do
  got=$(log guest | sed -n "s/.*HVMON-GUEST: KEYLOG done pid=[0-9]* comm=$c presses=[0-9]* codes=\([0-9,]*\).*/\1/p" | head -n1)
  [ "$got" = "$codes" ] || hv_fail "$c read key codes '$got', typed '$codes'"
done
l1=$(log guest | sed -n "s/.*HVMON-GUEST: TTY pid=$tpid line=\[\(.*\)\]$/\1/p" | sed -n 1p)
l2=$(log guest | sed -n "s/.*HVMON-GUEST: TTY pid=$tpid line=\[\(.*\)\]$/\1/p" | sed -n 2p)
[ "$l1" = "$LINE1" ] && [ "$l2" = "$LINE2" ] || hv_fail "shell on tty1 read '$l1' / '$l2', typed '$LINE1' / '$LINE2'"
# exactly one keylogger event per reported reader: hvkeylog (and kl-cpu0 on 2 CPUs), device input, >= K keystrokes;
# and (issue 15) kl-allowed, kl-preadv2, kl-int80, kl-late, the evdev reader named sh, kl-raw, kl-rename, kl-uring
evs=$(json_events hvmon keylogger)
NEV=$((CPUS + 11))   # + kl-otty (another session's terminal) and kl-fgev (the foreground reading evdev, not allowed)
[ "$(printf '%s\n' "$evs" | grep -c .)" = "$NEV" ] || hv_fail "expected exactly $NEV keylogger event(s), got: $evs"
pid_of() { log guest | sed -n "s/.*HVMON-GUEST: KEYLOG ready pid=\([0-9]*\) comm=$1 .*/\1/p" | head -n1; }
rpid=$(log guest | sed -n 's/.*HVMON-GUEST: KEYLOG raw ready pid=\([0-9]*\) comm=kl-raw .*/\1/p' | head -n1)
[ -n "$rpid" ] || hv_fail "kl-raw did not start"
got=$(log guest | sed -n "s/.*HVMON-GUEST: KEYLOG raw done pid=$rpid comm=kl-raw makes=[0-9]* scancodes=\([0-9,]*\).*/\1/p")
[ "$got" = "$rawcodes" ] || hv_fail "kl-raw read scan codes '$got', typed '$rawcodes'"
for c in kl-allowed kl-preadv2 kl-int80 kl-late sh kl-raw; do
  p=$([ $c = kl-raw ] && echo "$rpid" || pid_of "$c")
  [ -n "$p" ] || hv_fail "$c did not start"
  e=$(printf '%s\n' "$evs" | grep "\"pid\":$p,\"tgid\":$p,\"comm\":\"$c\"") || hv_fail "no keylogger event for $c pid $p: $evs"
  d=$([ $c = kl-raw ] && echo port || echo input)
  printf '%s\n' "$e" | grep -q "\"device\":\"$d\"" || hv_fail "$c: event device is not $d: $e"
done
# the renaming reader: reported once, under the name it had at its K-th key (kl-ren1 when it read the
# 7th and 8th keys apart, kl-rename when one read returned both)
npid=$(pid_of kl-rename)
[ -n "$npid" ] || hv_fail "kl-rename did not start"
e=$(printf '%s\n' "$evs" | grep "\"pid\":$npid,\"tgid\":$npid,\"comm\":\"kl-ren\(1\|ame\)\"") || hv_fail "no keylogger event for kl-rename (pid $npid): $evs"
printf '%s\n' "$e" | grep -q '"device":"input"' || hv_fail "kl-rename: event device is not input: $e"
got=$(log guest | sed -n "s/.*HVMON-GUEST: KEYLOG done pid=$npid comm=kl-rename presses=[0-9]* codes=\([0-9,]*\).*/\1/p" | head -n1)
[ "$got" = "$codes" ] || hv_fail "kl-rename read key codes '$got', typed '$codes'"
# the io_uring reader: reported by its process (tgid); the reading thread is its io-wq worker
upid=$(pid_of kl-uring)
[ -n "$upid" ] || hv_fail "kl-uring did not start"
e=$(printf '%s\n' "$evs" | grep "\"tgid\":$upid,\"comm\":\"\(kl-uring\|iou-wrk-$upid\)\"") || hv_fail "no keylogger event for kl-uring (tgid $upid): $evs"
printf '%s\n' "$e" | grep -q '"device":"input"' || hv_fail "kl-uring: event device is not input: $e"
echo "  io_uring reader's event: $e"
# every reported reader's terminal was read and judged (event field `terminal`, appended): none of them is
# the foreground of the active console
# the foreground of the active console (kl-fgev, reading the input device without keylogger_allow=) is the
# one "foreground" event
fgpid=$(pid_of kl-fgev)
[ -n "$fgpid" ] || hv_fail "kl-fgev did not start"
printf '%s\n' "$evs" | grep -v "\"pid\":$fgpid," | grep -v '"terminal":"other"' | grep -q . && hv_fail "a keylogger event without \"terminal\":\"other\": $evs"
shpid=$(pid_of sh)
ev=$(printf '%s\n' "$evs" | grep "\"pid\":$kpid,\"tgid\":$kpid,\"comm\":\"hvkeylog\"") || hv_fail "no keylogger event for hvkeylog pid $kpid: $evs"
if [ "$CPUS" -gt 1 ]; then
  # each reader's event carries the CPU it read on; kl-allowed's reads alternated between the CPUs
  assert_marker guest 'HVMON-GUEST: KEYLOG cpus online=0-1' "the guest runs 2 CPUs"
  zpid=$(log guest | sed -n 's/.*HVMON-GUEST: KEYLOG ready pid=\([0-9]*\) comm=kl-cpu0 .*/\1/p' | head -n1)
  [ -n "$zpid" ] || hv_fail "kl-cpu0 did not start"
  printf '%s\n' "$ev" | grep -q '"cpu":1,' || hv_fail "hvkeylog (pinned to CPU 1): event without cpu 1: $ev"
  ev0=$(printf '%s\n' "$evs" | grep "\"pid\":$zpid,\"tgid\":$zpid,\"comm\":\"kl-cpu0\"") || hv_fail "no keylogger event for kl-cpu0 pid $zpid: $evs"
  printf '%s\n' "$ev0" | grep -q '"cpu":0,' || hv_fail "kl-cpu0 (pinned to CPU 0): event without cpu 0: $ev0"
  printf '%s\n' "$ev0" | grep -q '"device":"input"' || hv_fail "kl-cpu0 event device is not input: $ev0"
  nk=$(log guest | grep -c "HVMON-GUEST: KEYLOG key pid=$kpid code=[0-9]* cpu=1\$" || true)
  [ "$nk" = "$NKEYS" ] || hv_fail "hvkeylog read $nk keys on CPU 1, want $NKEYS"
  for c in 0 1; do
    nk=$(log guest | grep -c "HVMON-GUEST: KEYLOG key pid=$apid code=[0-9]* cpu=$c\$" || true)
    [ "$nk" -gt 0 ] || hv_fail "kl-allowed read no key on CPU $c (alt mode)"
    echo "  kl-allowed read $nk keys on CPU $c"
  done
  got=$(log guest | sed -n "s/.*HVMON-GUEST: KEYLOG done pid=[0-9]* comm=kl-cpu0 presses=[0-9]* codes=\([0-9,]*\).*/\1/p" | head -n1)
  [ "$got" = "$codes" ] || hv_fail "kl-cpu0 read key codes '$got', typed '$codes'"
fi
printf '%s\n' "$ev" | grep -q '"device":"input"' || hv_fail "keylogger event device is not input: $ev"
ks=$(printf '%s\n' "$ev" | sed -n 's/.*"keystrokes":\([0-9]*\).*/\1/p')
[ -n "$ks" ] && [ "$ks" -ge "$K" ] || hv_fail "keylogger event with $ks keystrokes < K=$K"
# hvmon's own counts
mk=$(log hvmon | sed -n 's/.*hvmon: keylogger: i8042: .* \([0-9]*\) keystrokes (make codes).*/\1/p')
[ "$mk" = "$((NKEYS + NLESS + NRAW + NTU + NOT))" ] || hv_fail "hvmon counted $mk keystrokes (make codes), typed $NKEYS + $NLESS + $NRAW (read raw) + $NTU + $NOT"
nraw=$(log hvmon | sed -n 's/.*hvmon: keylogger: raw i8042 reads (not the driver.s `in al` at CPL 0): \([0-9]*\),.*/\1/p')
[ -n "$nraw" ] && [ "$nraw" -ge "$NRAW" ] || hv_fail "hvmon saw '$nraw' raw i8042 reads, kl-raw read at least $NRAW bytes with inw"
cons() { log hvmon | sed -n "s/.*hvmon: keylogger: consumer pid [0-9]* tgid $1 comm $2: \([0-9]*\) keystrokes (input \([0-9]*\), tty \([0-9]*\), port \([0-9]*\)): \([a-z ]*\)$/\1 \2 \3 \4 \5/p"; }
want_cons() { [ "$(cons "$1" "$2")" = "$3" ] || hv_fail "$2 (pid $1): hvmon saw '$(cons "$1" "$2")', want '$3'"; }
want_cons "$kpid" hvkeylog "$NKEYS $NKEYS 0 0 reported"
want_cons "$apid" kl-allowed "$NKEYS $NKEYS 0 0 reported"
[ "$CPUS" = 1 ] || want_cons "$zpid" kl-cpu0 "$NKEYS $NKEYS 0 0 reported"
for c in kl-preadv2 kl-int80 kl-late; do want_cons "$(pid_of $c)" $c "$NKEYS $NKEYS 0 0 reported"; done
want_cons "$shpid" sh "$NKEYS $NKEYS 0 0 reported"
want_cons "$rpid" kl-raw "$NRAW 0 0 $NRAW reported"
# one entry across its names (30 keys: renamed after 7, 14, 21, 28), shown under the name of its last read
want_cons "$npid" 'kl-ren[34]' "$NKEYS $NKEYS 0 0 reported"
want_cons "$upid" '[a-z0-9-]*' "$NKEYS $NKEYS 0 0 reported"   # kl-uring or its worker iou-wrk-PID (no group: cons numbers them)
# issue 15 item 5 gaps A, B: the tty copy point (the call to _copy_to_iter in tty_read, found from the
# inferred tty_read): kl-ttyuring read tty1 through io_uring (not its terminal): reported, device tty,
# terminal other, every key counted; the shell and less (above: allowed) were judged at the same point,
# with the tty they read compared with their controlling terminal
assert_marker hvmon 'keylogger: tty chunks counted at tty_read.s copy 0x[0-9a-f]* \(tty_read 0x[0-9a-f]*; every read path' "tty copy point found and probe-able"
upid2=$(log guest | sed -n 's/.*HVMON-GUEST: KEYLOG tty ready pid=\([0-9]*\) comm=kl-ttyuring .*/\1/p' | head -n1)
[ -n "$upid2" ] || hv_fail "kl-ttyuring did not start"
got=$(log guest | sed -n "s/.*HVMON-GUEST: KEYLOG tty done pid=$upid2 comm=kl-ttyuring bytes=[0-9]* text=\[\(.*\)\]$/\1/p" | head -n1)
[ "$got" = "$TULINE|" ] || hv_fail "kl-ttyuring read '$got' from tty1 through io_uring, typed '$TULINE|'"
e=$(printf '%s\n' "$evs" | grep "\"tgid\":$upid2,\"comm\":\"\(kl-ttyuring\|iou-wrk-$upid2\)\"") || hv_fail "no keylogger event for kl-ttyuring (tgid $upid2): $evs"
printf '%s\n' "$e" | grep -q '"device":"tty"' || hv_fail "kl-ttyuring: event device is not tty: $e"
echo "  io_uring tty reader's event: $e"
want_cons "$upid2" '[a-z0-9-]*' "$NTU 0 $NTU 0 reported"
ntc=$(log hvmon | sed -n 's/.*tty copy point: \([0-9]*\) hits .*, \([0-9]*\) chunks (\([0-9]*\) typed keys), [0-9]* unreadable, \([0-9]*\) windows without it.*/\1 \2 \3 \4/p')
read -r _ _ tckeys tcmiss <<< "$ntc"
# typed keys reached tty readers in chunks: the shell's lines (busybox reads a byte at a time), less's
# keys, kl-ttyuring's line: at least one chunk each, none missed for want of the probe
[ "${tckeys:-0}" -ge 3 ] && [ "${tcmiss:-1}" = 0 ] || hv_fail "tty copy point: hits/chunks/typed chunks/windows without it '$ntc'"
assert_marker hvmon 'keylogger: evdev events counted at input_event_to_user 0x[0-9a-f]* .*active console from fg_console 0x[0-9a-f]*[1-9a-f]' "evdev copy point probed, fg_console known"
nev=$(log hvmon | sed -n 's/.*evdev copy point input_event_to_user: \([0-9]*\) hits.*(\([0-9]*\) key presses), \([0-9]*\) windows without it.*/\1 \2 \3/p')
read -r _ evkeys evmiss <<< "$nev"
NEVR=$((CPUS + 7))   # evdev readers: hvkeylog, kl-allowed, kl-preadv2, kl-int80, sh, kl-late, kl-rename, kl-uring (+ kl-cpu0)
[ "${evkeys:-0}" -ge "$((NEVR * NKEYS))" ] && [ "${evmiss:-1}" = 0 ] || hv_fail "evdev copy point: hits/key presses/windows without it '$nev', want >= $((NEVR * NKEYS)) key presses ($NEVR evdev readers), 0 windows without"
assert_marker hvmon 'i8042 command port 0x64: [0-9]* status reads, [1-9][0-9]* commands .*judged by the commands seen' "0x64 commands seen"
want_cons "$tpid" sh "$NKEYS 0 $NKEYS 0 allowed"
assert_marker guest 'HVMON-GUEST: less done rc=0' "less on tty1 ended (q typed)"
lc=$(log hvmon | sed -n "s/.*hvmon: keylogger: consumer pid [0-9]* tgid [0-9]* comm less: \([0-9]*\) keystrokes (input \([0-9]*\), tty \([0-9]*\), port \([0-9]*\)): \([a-z ]*\)$/\1 \2 \3 \4 \5/p")
[ "$lc" = "$NLESS 0 $NLESS 0 allowed" ] || hv_fail "less on tty1: hvmon saw '$lc', want '$NLESS 0 $NLESS 0 allowed'"
printf '%s\n' "$evs" | grep -q '"comm":"less"' && hv_fail "less (foreground of tty1) was reported: $evs"
# the display-server rule (issue 15 item 5: "identified by more than its name"): two evdev readers in the
# foreground group of tty1 while less runs; the copy named kl-allowed (in keylogger_allow=) is allowed —
# while the kl-allowed above, same name in the background, was reported —, kl-fgev (not in it) is reported
# with terminal "foreground"
assert_marker guest 'HVMON-GUEST: KEYLOG fg evdev readers done rc=0' "foreground evdev readers got their keys"
fapid=$(log guest | sed -n 's/.*HVMON-GUEST: KEYLOG ready pid=\([0-9]*\) comm=kl-allowed .*/\1/p' | sed -n 2p)
[ -n "$fapid" ] || hv_fail "the foreground kl-allowed did not start"
for p in "$fapid" "$fgpid"; do
  st=$(log guest | sed -n "s/.*HVMON-GUEST: KEYLOG fg reader pid=$p pgrp=\([0-9]*\) session=[0-9]* tty_nr=\([0-9]*\) tpgid=\([0-9]*\)$/\1 \2 \3/p")
  read -r pg tn tp <<< "$st"
  # tty_nr 1025 = device 4:1, tty1; its foreground group is the reader's group
  [ "${tn:-}" = 1025 ] && [ -n "${pg:-}" ] && [ "$pg" = "${tp:-}" ] || hv_fail "reader $p is not in tty1's foreground group: '$st'"
done
want_cons "$fapid" kl-allowed "$NLESS $NLESS 0 0 allowed"
assert_marker hvmon "keylogger: allowed consumer $fapid \(kl-allowed, tgid $fapid\) reached $K keystrokes from input: not reported" "the foreground kl-allowed (display-server rule) noted at K, not reported"
want_cons "$fgpid" kl-fgev "$NLESS $NLESS 0 0 reported"
e=$(printf '%s\n' "$evs" | grep "\"pid\":$fgpid,\"tgid\":$fgpid,\"comm\":\"kl-fgev\"") || hv_fail "no keylogger event for kl-fgev (pid $fgpid): $evs"
printf '%s\n' "$e" | grep -q '"device":"input","keystrokes":[0-9]*,"terminal":"foreground"' || hv_fail "kl-fgev: not device input, terminal foreground: $e"
# another session's terminal (issue 15 item 5): kl-otty is the foreground of its own controlling terminal
# (a pty of its own session) and read(2)s tty1: reported, device tty, terminal other, every key counted
st=$(log guest | sed -n 's/.*HVMON-GUEST: KEYLOG otty ready pid=\([0-9]*\) comm=kl-otty ctty=\(\/dev\/pts\/[0-9]*\) fg=\([0-9]*\) pgrp=\([0-9]*\) sid=\([0-9]*\) tty=\/dev\/tty1$/\1 \2 \3 \4 \5/p')
read -r opid octty ofg opg osid <<< "$st"
[ -n "${opid:-}" ] && [ "$ofg" = "$opg" ] && [ "$osid" = "$opid" ] || hv_fail "kl-otty is not the foreground of its own terminal: '$st'"
got=$(log guest | sed -n "s/.*HVMON-GUEST: KEYLOG otty done pid=$opid comm=kl-otty bytes=[0-9]* text=\[\(.*\)\]$/\1/p")
[ "$got" = "$OTLINE|" ] || hv_fail "kl-otty read '$got' from tty1, typed '$OTLINE|'"
e=$(printf '%s\n' "$evs" | grep "\"pid\":$opid,\"tgid\":$opid,\"comm\":\"kl-otty\"") || hv_fail "no keylogger event for kl-otty (pid $opid): $evs"
printf '%s\n' "$e" | grep -q '"device":"tty","keystrokes":[0-9]*,"terminal":"other"' || hv_fail "kl-otty: not device tty, terminal other: $e"
echo "  another session's terminal: kl-otty (foreground of $octty) read tty1: $e"
want_cons "$opid" kl-otty "$NOT 0 $NOT 0 reported"
# at the copy point hvmon read which tty each chunk came from: kl-ttyuring's and kl-otty's were not their
# controlling terminal (the shell's and less's were, or they would have been reported)
noth=$(log hvmon | sed -n "s/.*; \([0-9]*\) chunks read from a tty that is not the reader's controlling terminal$/\1/p")
[ -n "$noth" ] && [ "$noth" -ge 2 ] || hv_fail "hvmon saw '$noth' tty chunks read from a tty other than the reader's terminal, want >= 2 (kl-ttyuring, kl-otty)"
# the report lines are queued, not written in the exit (the console's ~17 ms per line at 115,200 baud)
rl=$(log hvmon | sed -n 's/.*hvmon: keylogger: report lines queued, not written: \([0-9]*\) reports (\([0-9]*\) TSC ticks\/report.*, \([0-9]*\) allowed-consumer notes (\([0-9]*\) TSC ticks\/note)$/\1 \2 \3 \4/p')
read -r nrep trep _ _ <<< "$rl"
[ "${nrep:-0}" = "$NEV" ] || hv_fail "report lines: '$rl', want $NEV reports"
nw=$(log hvmon | grep -a -c 'hvmon: WARN: keylogger: process [0-9]* (.*) consumed [0-9]* keystrokes from [a-z]* (K=8): reported' || true)
[ "$nw" = "$NEV" ] || hv_fail "$nw report lines on hvmon's console, want $NEV (queued lines lost?)"
echo "  report lines: $rl (reports, TSC ticks/report, notes, ticks/note)"
nfg=$(log hvmon | sed -n 's/.*reader terminals: \([0-9]*\) foreground of a console.*/\1/p')
[ -n "$nfg" ] && [ "$nfg" -gt 0 ] || hv_fail "hvmon judged no read as the foreground of a console ('$nfg')"
assert_marker hvmon 'keylogger: probe at 0x[0-9a-f]* \(syscall_exit_to_user_mode, every ABI\)' "exit probe on syscall_exit_to_user_mode"
nc=$(log hvmon | sed -n 's/.* \([0-9]*\) compat (i386) reads;.*/\1/p')
[ -n "$nc" ] && [ "$nc" -gt 0 ] || hv_fail "no compat read seen ('$nc')"
assert_marker hvmon "keylogger: allowed consumer $tpid \(sh, tgid $tpid\) reached $K keystrokes from tty: not reported" "sh seen at K"
rep=$(log hvmon | grep -a "keylogger: process $kpid (hvkeylog" | head -n1)
echo "  $rep"
log hvmon | grep -a 'hvmon: keylogger: [0-9]* windows\|hvmon: keylogger: i8042\|hvmon: keylogger: raw i8042' | sed 's/^/  /'
log hvmon | grep -a 'hvmon:   30 IO\|hvmon:   3 EXCEPTION\|hvmon: probe .*(call' | sed 's/^/  /' || true

if [ "${KL_BUSY:-0}" = 1 ]; then
  assert_marker guest 'HVMON-GUEST: busy dd stopped' "busy background ran"
  hv_pass "(KL_BUSY=1) keylogger reported under a syscall-heavy background; sh and kl-allowed not; $NKEYS keys counted"
fi

# ---- boot 2: keylogger off (up to the first VM entry: the I/O bitmap is final by then) ----
rm -rf "$HV_TOP/build/runs/keylogger-off"
hv_boot keylogger-off --kernel "$(hv_fixture_kernel "$FLAVOUR")" --initrd "$initrd" \
  --hv-opts "console=com2 log=info monitors=tracer,hang,ret2usr" --stop-on 'hvmon:hvmon: entering the guest'
assert_status marker
assert_marker hvmon 'monitor keylogger: off \(monitors= option\): port 0x60 intercepted: no, port 0x64: no' "ports 0x60/0x64 not intercepted"
assert_no_marker hvmon 'keylogger: i8042 data port' "no port-0x60 hook with the monitor off"
hv_pass "keylogger reported (pid $kpid; the tty1 shell and less in its foreground group ($NLESS keys) not reported; preadv2, int \$0x80, late (3 s), evdev-named-sh and name-allowed evdev readers reported with every key counted; raw inw reader kl-raw reported (device port, $NRAW keys, $nraw raw reads; 0x64 commands watched), kl-rename reported across 4 renames, io_uring reader kl-uring reported, io_uring tty1 reader kl-ttyuring reported (device tty, $NTU keys, tty copy point), kl-otty (foreground of its own pty) reading tty1 reported (terminal other), foreground evdev readers: kl-allowed allowed, kl-fgev reported (terminal foreground); report lines queued ($trep TSC ticks/report)$([ "$CPUS" = 1 ] || echo " on CPU 1 with cpu 1, kl-cpu0 pid $zpid on CPU 0 with cpu 0; kl-allowed read on both CPUs, every key counted"), $ks keystrokes, device input), sh on tty1 and kl-allowed not reported; $NKEYS keys typed, counted and received unchanged; monitor off: port 0x60 not in the I/O bitmap ($FLAVOUR)"

#!/usr/bin/env bash
# Issue 14: Debian 11's 5.10 cloud kernel (a kernel hvmon was not built around) monitored
# under hvmon in Bochs, KASLR on — one boot for three checks (suite time):
#   1. the process tracer: tracer_bochs.sh's workload and checks, one to one
#      (tests/integration/tracer_compare.py), probes invisible through /proc/kcore;
#   2. a ret2usr attack caught: tests/guest/faultinj built against the 5.10 headers
#      (tests/guest/build-module.sh with HV_MODULE_KERNEL=5.10), execuser and smepoff_exec
#      (the guest's SMEP catches the first, the CR4 write is blocked, the second is caught);
#   3. the ring -1 inference profile, KASLR slide removed, equals `hvinfer --json` of the
#      same bzImage (tests/integration/infer_ring1_compare.py), and the slide equals the
#      guest's own _stext minus the link address.
#   4. (issue 15 item 5) the keylogger on 5.10: its syscall exit site found (the retpoline dispatch and
#      the tail jump of 5.10's do_syscall_64) and probed at syscall_exit_to_user_mode; keys typed over
#      RFB (tests/bochs/rfbkeys.py, paced by hvkeylog's acknowledgements) are read by hvkeylog from
#      evdev (reported, device input, every key counted) and by the shell on tty1 (its controlling
#      terminal, foreground: counted, not reported) and by kl-int80 through `int $0x80` (a compat
#      read: reported; the exit probe tells it from the 64-bit ones by the return address at
#      syscall_exit_to_user_mode's entry); then kl-ttyuring reads tty1 through io_uring
#      (opened O_NOCTTY: not its terminal; reported, device tty, under its tgid — the io-wq worker's
#      reads are its process's). tests/guest/scenarios/keylogger510.sh. The typist holds the RFB
#      connection until Bochs exits (--hold: a closed client socket can kill Bochs with SIGPIPE).
#   5. issue 15's hostile-guest attacks, as core_hvtest.sh runs them on 6.1, with hvinteg.ko and
#      hvtamper.ko built against the 5.10 headers (tests/integration/hostile-lib.sh: the same
#      checks): LSTAR/SYSENTER_EIP hooks, CR0.WP, LIDT/LGDT, user-mode descriptor-table
#      instructions, kernel text and sys_call_table bytes through an alias, text_poke over an
#      ftrace NOP, ftrace/static key/module load as patches; 0xCC over two probes, do_exit's page
#      remapped, a private kernel half, the vfork storm (integrity_action=block).
# The hang injections on 5.10 run in hang_bochs_510.sh. Usage: k510_bochs.sh [5.10|FLAVOUR]
set -eu   # not pipefail: lib.sh greps with -q behind tr (SIGPIPE on big logs)
. "$(dirname "$0")/../bochs/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
flavour=${1:-5.10}
name=k510-$flavour
HVINFER="$HV_TOP/build/tools/hvinfer"
[ -x "$HVINFER" ] || hv_fail "build/tools/hvinfer missing (make tools)"
[ -f "$HV_TOP/build/hvmon.elf" ] || hv_fail "build/hvmon.elf missing (make)"
kernel=$(hv_fixture_kernel "$flavour") || exit 1
make -s -C "$HV_TOP" build/tests/guest/tracer-work build/tests/guest/hv32 build/tests/guest/hvkeylog \
  build/tests/guest/hvvfork build/tests/guest/hvdtr build/tests/guest/hv64i80 >/dev/null || hv_fail "cannot build tracer-work/hv32/hvkeylog/hvvfork/hvdtr"
umh=$(HV_MODULE_KERNEL=5.10 "$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/hvumh") ||
  hv_fail "hvumh module build against the 5.10 headers failed"
ko=$(HV_MODULE_KERNEL=5.10 "$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/faultinj") ||
  hv_fail "faultinj module build against the 5.10 headers failed"
# 5. (issue 15) hvinteg.ko (hvtest's directory also builds hvtest.ko: not used here), hvtamper.ko
hmods=()
for k in $(HV_MODULE_KERNEL=5.10 "$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/hvtest") \
  $(HV_MODULE_KERNEL=5.10 "$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/hvtamper"); do
  case $k in */hvinteg.ko|*/hvtamper.ko) hmods+=(-m "$k") ;; esac
done
[ ${#hmods[@]} = 4 ] || hv_fail "hvinteg/hvtamper module build against the 5.10 headers failed"
initrd=$(hv_fixture_initrd k510 -m "$HV_TOP/build/tests/guest/tracer-work" -m "$ko" \
  -m "$HV_TOP/build/tests/guest/hv32" -m "$umh" -m "$HV_TOP/build/tests/guest/hvkeylog" \
  "${hmods[@]}" -m "$HV_TOP/build/tests/guest/hvvfork" -m "$HV_TOP/build/tests/guest/hvdtr" \
  -m "$HV_TOP/build/tests/guest/hv64i80" \
  -k evdev --kernel "$flavour" --no-load \
  -o "$HV_TOP/build/initramfs/$name.cpio.gz") || exit 1
ref=$(mktemp /tmp/k510_ref.XXXXXX.json); run=$(mktemp /tmp/k510_run.XXXXXX.json)
trap 'rm -f "$ref" "$run"' EXIT
rc=0; timeout 600 "$HVINFER" --json --strategy all "$kernel" > "$ref" || rc=$?
[ "$rc" = 0 ] || hv_fail "hvinfer --json --strategy all $kernel: exit $rc (an applicable parameter is missing)"

HV_GUEST_FATAL='Kernel panic|HVMON-GUEST: poweroff failed'     # the ret2usr oopses are expected
# the keylogger part's typist (keylogger510.sh: kl_keys=14, kl_tu=10 by default)
KLINE="five ten keys"; NK=$(( ${#KLINE} + 1 )); TULINE="uring 510"; NTU=$(( ${#TULINE} + 1 ))
rm -rf "$HV_TOP/build/runs/$name"; mkdir -p "$HV_TOP/build/runs/$name"
python3 "$HV_BOCHS/rfbkeys.py" --bochs-log "$HV_TOP/build/runs/$name/bochs.log" \
  --wait-file "$HV_TOP/build/runs/$name/guest.log" --wait-re 'HVMON-GUEST: KEYLOG typing' --timeout "$HV_TIMEOUT" \
  --delay 0.07 --text "$KLINE\\n" --ack-re 'HVMON-GUEST: KEYLOG key pid=([0-9]+) code=' \
  --then 'HVMON-GUEST: KEYLOG tty uring typing' "$TULINE\\n" --hold > "$HV_TOP/build/runs/$name.rfb" 2>&1 &
typist=$!
hv_boot "$name" --kernel "$kernel" --initrd "$initrd" \
  --hv-opts "console=com2 log=info monitors=tracer,ret2usr,keylogger,integrity ret2usr_action=report keylogger_k=8 integrity_action=block"
wait "$typist" || { cat "$HV_TOP/build/runs/$name.rfb" >&2; hv_fail "typing failed"; }
cat "$HV_TOP/build/runs/$name.rfb"
assert_status exit marker
assert_no_marker guest 'nokaslr' "KASLR must stay on"
assert_no_marker hvmon 'guest crashed|PANIC|EXCEPTION in ring -1' "no crash"
assert_marker guest 'HVMON-GUEST: userspace reached' "5.10 guest reached userspace"
assert_marker hvmon 'hvmon: guest powered off' "clean power-off"

# 1. tracer (tracer_bochs.sh's checks)
assert_marker hvmon 'hvmon: monitor proctrace: on' "tracer on"
assert_marker hvmon 'proctrace: 4 of 4 probes placed \(exit events from do_exit; exec/fork at kernel_clone, do_execveat_common, kernel_execve: every ABI\)' "all 4 probes placed"
assert_marker guest 'HVMON-GUEST: tracer-work done' "workload finished"
assert_marker guest 'HVMON-GUEST: part tracer exit=0' "tracer scenario passed"
assert_marker hvmon 'probes followed a rewrite, 0 dropped' "no probe dropped"
assert_marker hvmon 'hvmon: events: [0-9]+ committed, [0-9]+ delivered, 0 dropped' "no event dropped"
# the only results lost: hvvfork's storm of 20 blocked vforks (part 5), each loss reported
# (trace_lost at the 1st, 2nd, 4th, 8th ... loss: the highest count C of N losses has C <= N < 2C)
lost=$(marker_value hvmon 'proctrace: [0-9]+ events, [0-9]+ syscall results lost' | sed -E 's/.* ([0-9]+) syscall results lost.*/\1/')
[ -n "$lost" ] || hv_fail "no proctrace statistics line"
maxc=$(json_events hvmon trace_lost | sed -E 's/.*"count":([0-9]+).*/\1/' | sort -n | tail -1)
other=$(json_events hvmon trace_lost | grep -avc '"comm":"hvvfork","what":"fork","reason":"pending_full"' || true)
[ "$other" = 0 ] || hv_fail "trace_lost events other than hvvfork's pending-table overflow: $other"
[ "$lost" = 0 ] && [ -z "$maxc" ] || { [ -n "$maxc" ] && [ "$maxc" -le "$lost" ] && [ "$lost" -lt $((2 * maxc)) ]; } ||
  hv_fail "$lost syscall results lost, trace_lost reported up to ${maxc:-none}: a loss not reported"
python3 "$HV_TOP/tests/integration/tracer_compare.py" --abi --int80-64 "$RUN_DIR/hvmon.log" "$RUN_DIR/guest.log" \
  || hv_fail "tracer events do not match the workload's record (5.10)"
assert_probes_invisible 3 > /dev/null
echo "tracer: events match one to one; 3 probed functions read back original bytes"

# 2. ret2usr
assert_marker guest 'HVMON-GUEST: insmod faultinj rc=0' "faultinj (5.10 headers) loaded"
assert_marker hvmon 'ret2usr: on \(action' "ret2usr monitor on"
assert_ret2usr_first_execuser
assert_marker hvmon 'ret2usr: cr4_tamper: MOV CR4 .* blocked' "cr4_tamper reported"
ua2=$(marker_value guest 'FAULTINJ: smepoff_exec exec user_addr=' | sed -E 's/.*user_addr=(0x[0-9a-f]+) pid=([0-9]+).*/\1 \2/')
[ -n "$ua2" ] || hv_fail "smepoff_exec did not run"
set -- $ua2
assert_marker hvmon "kernel executed user address $1 .* in task $2 " "smepoff_exec detected"
[ "$(json_events hvmon ret2usr | wc -l)" = 2 ] || hv_fail "expected 2 ret2usr events, got $(json_events hvmon ret2usr | wc -l)"
assert_marker guest 'HVMON-GUEST: alive after 2 attacks' "guest alive after the attacks"
assert_marker guest 'HVMON-GUEST: part ret2usr exit=0' "ret2usr scenario finished"
echo "ret2usr: execuser by $pid ($comm) at $addr caught; smepoff_exec blocked + caught"

# 3. ring -1 profile == hvinfer --json minus the slide
pref=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(0x268); print(struct.unpack_from("<Q",d,0x258)[0])' "$kernel")
link_text=$(printf '%x' $((0xffffffff80000000 + pref)))
tr -d '\000\r' < "$RUN_DIR/hvmon.log" | grep -a '^hvmon: inference profile: ' \
  | sed -n '1s/^hvmon: inference profile: //p' > "$run"
[ -s "$run" ] || hv_fail "no 'inference profile' line in hvmon.log"
ev=$(json_events hvmon inference | sed -n 1p)
[ -n "$ev" ] || hv_fail "no {\"event\":\"inference\"} line"
stext=$(marker_value guest 'HVMON-GUEST: _stext' | awk '{print $3}')
[ -n "$stext" ] || hv_fail "guest did not report _stext"
slide=$(marker_value hvmon 'hvmon: inference: KASLR slide' | sed -E 's/.*KASLR slide (0x[0-9a-f]+|0).*/\1/')
[ -n "$slide" ] || hv_fail "no KASLR slide line"
[ $((slide)) -ne 0 ] || hv_fail "KASLR slide 0: KASLR did not randomize"
python3 "$HV_TOP/tests/integration/infer_ring1_compare.py" "$ref" "$run" "$slide" "$stext" "$link_text" "$ev" \
  || hv_fail "ring -1 profile (slide $slide removed) differs from hvinfer --json"
# 4. the keylogger on 5.10 (issue 15 item 5)
log() { tr -d '\000\r' < "$RUN_DIR/$1.log"; }
assert_no_marker bochs 'internal keyboard buffer full' "no scan code dropped by Bochs's keyboard"
assert_marker guest 'HVMON-GUEST: part keylogger exit=0' "keylogger part finished"
site=$(marker_value hvmon 'hvmon: keylogger: syscall exit site 0x')
echo "$site"
printf '%s\n' "$site" | grep -q '(do_syscall_64 0x[0-9a-f]*, tail jump)' ||
  hv_fail "no syscall exit site (tail jump) on 5.10: $(log hvmon | grep -a 'keylogger:' | head -5)"
assert_marker hvmon 'keylogger: probe at 0x[0-9a-f]* \(syscall_exit_to_user_mode, every ABI\)' "exit probe on syscall_exit_to_user_mode"
kpid=$(log guest | sed -n 's/.*HVMON-GUEST: KEYLOG ready pid=\([0-9]*\) comm=hvkeylog .*/\1/p' | head -n1)
tpid=$(log guest | sed -n 's/.*HVMON-GUEST: TTY reader pid=\([0-9]*\).*/\1/p' | head -n1)
upid=$(log guest | sed -n 's/.*HVMON-GUEST: KEYLOG tty ready pid=\([0-9]*\) comm=kl-ttyuring .*/\1/p' | head -n1)
[ -n "$kpid" ] && [ -n "$tpid" ] && [ -n "$upid" ] || hv_fail "keylogger readers did not start ('$kpid' '$tpid' '$upid')"
l=$(log guest | sed -n "s/.*HVMON-GUEST: TTY pid=$tpid line=\[\(.*\)\]$/\1/p" | sed -n 1p)
[ "$l" = "$KLINE" ] || hv_fail "the shell on tty1 read '$l', typed '$KLINE'"
got=$(log guest | sed -n "s/.*HVMON-GUEST: KEYLOG tty done pid=$upid comm=kl-ttyuring bytes=[0-9]* text=\[\(.*\)\]$/\1/p" | head -n1)
[ "$got" = "$TULINE|" ] || hv_fail "kl-ttyuring read '$got' from tty1 through io_uring, typed '$TULINE|'"
evs=$(json_events hvmon keylogger)
[ "$(printf '%s\n' "$evs" | grep -c .)" = 3 ] || hv_fail "expected 3 keylogger events (hvkeylog, kl-int80, kl-ttyuring), got: $evs"
e=$(printf '%s\n' "$evs" | grep "\"pid\":$kpid,\"tgid\":$kpid,\"comm\":\"hvkeylog\"") || hv_fail "no keylogger event for hvkeylog $kpid: $evs"
printf '%s\n' "$e" | grep -q '"device":"input"' || hv_fail "hvkeylog: event device is not input: $e"
e=$(printf '%s\n' "$evs" | grep "\"tgid\":$upid,\"comm\":\"\(kl-ttyuring\|iou-wrk-$upid\)\"") || hv_fail "no keylogger event for kl-ttyuring (tgid $upid): $evs"
printf '%s\n' "$e" | grep -q '"device":"tty"' || hv_fail "kl-ttyuring: event device is not tty: $e"
printf '%s\n' "$e" | grep -q '"terminal":"other"' || hv_fail "kl-ttyuring: event terminal is not other: $e"
echo "  io_uring tty reader's event: $e"
cons() { log hvmon | sed -n "s/.*hvmon: keylogger: consumer pid [0-9]* tgid $1 comm $2: \([0-9]*\) keystrokes (input \([0-9]*\), tty \([0-9]*\), port \([0-9]*\)): \([a-z ]*\)$/\1 \2 \3 \4 \5/p"; }
want_cons() { [ "$(cons "$1" "$2")" = "$3" ] || hv_fail "$2 (pid $1): hvmon saw '$(cons "$1" "$2")', want '$3'"; }
want_cons "$kpid" hvkeylog "$NK $NK 0 0 reported"
ipid=$(log guest | sed -n 's/.*HVMON-GUEST: KEYLOG ready pid=\([0-9]*\) comm=kl-int80 .*/\1/p' | head -n1)
[ -n "$ipid" ] || hv_fail "kl-int80 did not start"
codes=$(log guest | sed -n "s/.*HVMON-GUEST: KEYLOG done pid=$kpid comm=hvkeylog presses=[0-9]* codes=\([0-9,]*\).*/\1/p" | head -n1)
got=$(log guest | sed -n "s/.*HVMON-GUEST: KEYLOG done pid=$ipid comm=kl-int80 presses=[0-9]* codes=\([0-9,]*\).*/\1/p" | head -n1)
[ -n "$codes" ] && [ "$got" = "$codes" ] || hv_fail "kl-int80 read key codes '$got', hvkeylog '$codes'"
e=$(printf '%s\n' "$evs" | grep "\"pid\":$ipid,\"tgid\":$ipid,\"comm\":\"kl-int80\"") || hv_fail "no keylogger event for kl-int80 $ipid: $evs"
printf '%s\n' "$e" | grep -q '"device":"input"' || hv_fail "kl-int80: event device is not input: $e"
want_cons "$ipid" kl-int80 "$NK $NK 0 0 reported"
# the ABI at syscall_exit_to_user_mode's entry (the tail-jump marker): compat reads seen, and 64-bit
# reads inspected besides them (with a wrong marker every read would look compat, and a 64-bit read(0)
# would be i386's restart_syscall: never inspected)
nri=$(log hvmon | sed -n 's/.*exit-site hits ([^)]*), \([0-9]*\) reads inspected.*/\1/p')
nc=$(log hvmon | sed -n 's/.* \([0-9]*\) compat (i386) reads;.*/\1/p')
[ -n "$nc" ] && [ "$nc" -gt 0 ] && [ -n "$nri" ] && [ "$nri" -gt "$nc" ] ||
  hv_fail "exit probe ABI on 5.10: '$nc' compat reads of '$nri' reads inspected (want 0 < compat < inspected)"
echo "  exit probe on 5.10: $nri reads inspected, $nc of them compat (kl-int80)"
want_cons "$tpid" sh "$NK 0 $NK 0 allowed"
want_cons "$upid" '[a-z0-9-]*' "$NTU 0 $NTU 0 reported"
mk=$(log hvmon | sed -n 's/.*hvmon: keylogger: i8042: .* \([0-9]*\) keystrokes (make codes).*/\1/p')
[ "$mk" = "$((NK + NTU))" ] || hv_fail "hvmon counted $mk keystrokes (make codes), typed $NK + $NTU"
log hvmon | grep -a 'hvmon: keylogger: kernel-thread readers\|hvmon: keylogger: tty copy point\|hvmon: keylogger: [0-9]* windows' | sed 's/^/  /'
echo "keylogger (5.10): exit site found (tail jump), hvkeylog (evdev), kl-int80 (evdev, int \$0x80) and kl-ttyuring (tty1 through io_uring) reported, the tty1 shell not"

# 5. issue 15's hostile-guest proofs on this kernel (the checks of core_hvtest.sh)
assert_marker guest 'HVMON-GUEST: part hostile exit=0' "hostile part: hvinteg.ko loaded, its workload ran"
hostile_integrity_regs
hostile_probe_tamper
hostile_integrity_ept
echo "hostile: integrity attacks blocked and reported, probe tampering reported and re-armed ($flavour)"

hv_pass "$flavour: hostile-guest attacks caught, keylogger on 5.10 (exit site a tail jump; evdev (64-bit and int \$0x80) and io_uring tty readers reported, the tty1 shell not), tracer one to one, ret2usr caught (5.10-built faultinj), ring -1 profile minus slide $slide == hvinfer --json"

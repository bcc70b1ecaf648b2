# Scenario part "keylogger510" (issue 15 item 5, run by scenario k510 in k510_bochs.sh's 5.10 boot):
# the keylogger's readers on 5.10 — the host types over RFB (tests/bochs/rfbkeys.py, paced by hvkeylog's
# "KEYLOG key" lines) after "KEYLOG typing", then after "KEYLOG tty uring typing".
#   kl_keys=N  keys of the first line (with Enter): hvkeylog reads them from evdev (a keylogger: reported);
#              the shell on tty1 (setsid -c: its controlling terminal, the foreground group) reads the
#              same line (the intended consumer: not reported); kl-int80 reads them from evdev through the
#              i386 read of `int $0x80` (a compat call: its return reaches syscall_exit_to_user_mode from
#              do_int80_syscall_32's tail jump; quiet: no line per key)
#   kl_tu=T    then kl-ttyuring reads T bytes of /dev/tty1 through io_uring, opened O_NOCTTY (another
#              session's terminal for it: reported); on Debian's 5.10 (the 5.15 io_uring backport) the read
#              runs in an io-wq worker thread iou-wrk-PID of its process
# Needs /modules/hvkeylog and /modules/evdev.ko (--no-load).
N=${kl_keys:-14}
rc=0
if ! grep -q '^evdev ' /proc/modules; then insmod /modules/evdev.ko; echo "HVMON-GUEST: insmod evdev rc=$?"; fi
i=0
while [ ! -e /dev/input/event0 ] && [ $i -lt 20 ]; do sleep 0.2; i=$((i+1)); done
setsid -c sh -c 'echo "HVMON-GUEST: TTY reader pid=$$"; IFS= read -r line; echo "HVMON-GUEST: TTY pid=$$ line=[$line]"' \
  < /dev/tty1 &
ttypid=$!
/modules/hvkeylog "$N" &
k1=$!
cp /modules/hvkeylog /tmp/kl-int80
HVKL_QUIET=1 /tmp/kl-int80 "$N" int80 &
k2=$!
sleep 1
echo "HVMON-GUEST: KEYLOG typing keys=$N lines=1"
wait $k1 || rc=$?
wait $k2 || rc=$?
wait $ttypid || rc=$?
cp /modules/hvkeylog /tmp/kl-ttyuring
/tmp/kl-ttyuring "${kl_tu:-10}" uringtty /dev/tty1 &
tu=$!
sleep 1
echo "HVMON-GUEST: KEYLOG tty uring typing"
wait $tu || rc=$?
echo "HVMON-GUEST: part keylogger exit=$rc"
exit $rc

# Scenario "keylogger" (docs/MONITORS.md "Keylogger detector"): consumers of the console keyboard for hvmon's keylogger detector.
# The initramfs holds /modules/hvkeylog (tests/guest/keylogger/hvkeylog.c) and /modules/evdev.ko (from the
# kernel package), both with --no-load; tests/integration/keylogger_bochs.sh types the keys through
# Bochs's RFB server once "HVMON-GUEST: KEYLOG typing" appears.
#   kl_keys=N    key presses each test keylogger waits for (default 16)
#   kl_lines=L   lines the shell on /dev/tty1 reads (default 2)
#   kl_busy=1    a syscall-heavy background while typing: dd bs=1 from /dev/zero to /dev/null (2 syscalls
#                per byte; its reads return zeros, which are neither input records nor typed characters)
#   kl_cpus=2    (several CPUs, issue 11) hvkeylog runs pinned to CPU 1, a copy named kl-cpu0 (not
#                allowed: reported too) pinned to CPU 0, and kl-allowed reads alternately on CPU 0 and
#                CPU 1 (hvkeylog's "alt" mode: it moves to the other CPU after each key press)
#   kl_more=1    (issue 15 item 5) more consumers of the same keys: kl-preadv2 (evdev through preadv2,
#                first iovec empty), kl-int80 (evdev through the i386 read of `int $0x80`: 16-byte
#                compat records), kl-late (sleeps 3 s before each of its last reads) and an evdev reader named `sh`
#                (/tmp/shdir/sh), kl-rename (renames itself kl-ren1, kl-ren2, ... every 7 keys), kl-uring
#                (evdev through io_uring: the reads run in an io-wq worker thread, no syscall returns them);
#                the tty1 shell then runs less (20 keys, see below); then, once they all
#                finished, kl-raw reads kl_raw=R (default 10) keys from the i8042 itself (ioperm, the
#                keyboard interrupt off, `inw` at port 0x5f) after the marker "KEYLOG raw typing";
#                then kl-ttyuring reads kl_tu=T (default 12) bytes of /dev/tty1 through io_uring (not
#                its controlling terminal) after "KEYLOG tty uring typing"; last kl-otty, the foreground
#                of its own terminal (its own session on a new pty), read(2)s kl_ot=O (default 11) bytes
#                of /dev/tty1 (another session's terminal) after "KEYLOG other tty typing".
#                While less runs, two evdev readers run in the tty1 shell's foreground group: a copy
#                named kl-allowed (in the test's keylogger_allow=: the display-server rule allows it)
#                and kl-fgev (not in it: reported, terminal "foreground"), kl_less=20 key presses each
#   kl_idle=S    first stay idle S guest seconds (idle cost: tests/guest/keylogger/idle_bench.sh);
#                with kl_keys=0 the scenario ends after that, without consumers
# Consumers:
#   sh           reads /dev/tty1 (the VGA console's tty, where the keyboard goes) line by line: comm "sh",
#                in the default allow list
#   hvkeylog     reads /dev/input/eventN (evdev) — the keylogger hvmon must report
#   kl-allowed   the same program under another name (comm "kl-allowed"): reported unless the test puts
#                it in keylogger_allow=
N=${kl_keys:-16}
L=${kl_lines:-2}
if [ -n "${kl_idle:-}" ]; then
  echo "HVMON-GUEST: idle ${kl_idle}s start"; sleep "$kl_idle"; echo "HVMON-GUEST: idle end"
  [ "$N" = 0 ] && { echo "HVMON-GUEST: keylogger scenario done rc=0"; exit 0; }
fi
[ -x /modules/hvkeylog ] || { echo "HVMON-GUEST: hvkeylog missing"; exit 2; }
if [ -f /modules/evdev.ko ] && ! grep -q '^evdev ' /proc/modules; then
  insmod /modules/evdev.ko; echo "HVMON-GUEST: insmod evdev rc=$?"
fi
i=0
while [ ! -e /dev/input/event0 ] && [ $i -lt 20 ]; do sleep 0.2; i=$((i+1)); done
ls /dev/input/ | tr '\n' ' ' | sed 's/^/HVMON-GUEST: input nodes: /'; echo
[ -e /dev/tty1 ] || { echo "HVMON-GUEST: no /dev/tty1"; exit 2; }
# the console shell: reads the keyboard's tty line by line (busybox read: one byte per read(2)).
# It runs as a login shell would: in its own session with tty1 as its controlling terminal
# (setsid -c), so it is the foreground process group of tty1 (hvmon judges it by that, issue 15).
# kl_more=1: afterwards (once /tmp/kl-less-go exists) it runs `less` on tty1 in its foreground
# group; the host types 19 x "j" and "q" (20 keys) after "KEYLOG less typing".
setsid -c sh -c 'echo "HVMON-GUEST: TTY reader pid=$$"; i=0
  while [ $i -lt '"$L"' ] && IFS= read -r line; do i=$((i+1)); echo "HVMON-GUEST: TTY pid=$$ line=[$line]"; done
  echo "HVMON-GUEST: TTY done pid=$$ lines=$i"
  if [ '"${kl_more:-0}"' = 1 ]; then
    while [ ! -e /tmp/kl-less-go ]; do sleep 0.2; done
    seq 1 400 > /tmp/kl-lines
    mkdir -p /tmp/fg; cp /modules/hvkeylog /tmp/fg/kl-allowed; cp /modules/hvkeylog /tmp/kl-fgev
    HVKL_QUIET=1 /tmp/fg/kl-allowed '"${kl_less:-20}"' & fa=$!
    HVKL_QUIET=1 /tmp/kl-fgev '"${kl_less:-20}"' & fb=$!
    for p in $fa $fb; do set -- $(cat /proc/$p/stat)
      echo "HVMON-GUEST: KEYLOG fg reader pid=$1 pgrp=$5 session=$6 tty_nr=$7 tpgid=$8"; done
    (sleep 1; echo "HVMON-GUEST: KEYLOG less typing") &
    less /tmp/kl-lines > /dev/tty1; echo "HVMON-GUEST: less done rc=$?"
    frc=0; wait $fa || frc=$?; wait $fb || frc=$?
    echo "HVMON-GUEST: KEYLOG fg evdev readers done rc=$frc"
  fi' < /dev/tty1 &
ttypid=$!
cp /modules/hvkeylog /tmp/kl-allowed
k0=""
if [ "${kl_cpus:-1}" -gt 1 ]; then
  echo "HVMON-GUEST: KEYLOG cpus online=$(cat /sys/devices/system/cpu/online)"
  taskset -c 1 /modules/hvkeylog "$N" &
  k1=$!
  cp /modules/hvkeylog /tmp/kl-cpu0
  taskset -c 0 /tmp/kl-cpu0 "$N" &
  k0=$!
  /tmp/kl-allowed "$N" alt &
  k2=$!
else
  /modules/hvkeylog "$N" &
  k1=$!
  /tmp/kl-allowed "$N" &
  k2=$!
fi
more=""
if [ "${kl_more:-0}" = 1 ]; then
  cp /modules/hvkeylog /tmp/kl-preadv2; cp /modules/hvkeylog /tmp/kl-int80; cp /modules/hvkeylog /tmp/kl-raw
  cp /modules/hvkeylog /tmp/kl-late; cp /modules/hvkeylog /tmp/kl-rename; cp /modules/hvkeylog /tmp/kl-uring
  mkdir -p /tmp/shdir; cp /modules/hvkeylog /tmp/shdir/sh
  # quiet (no line per key): seven evdev readers printing every key slow the guest enough that
  # evdev's 64-event client buffers overflow (measured: 10 keys lost by every reader)
  HVKL_QUIET=1 /tmp/kl-preadv2 "$N" preadv2 & more="$more $!"
  HVKL_QUIET=1 /tmp/kl-int80 "$N" int80 & more="$more $!"
  HVKL_QUIET=1 /tmp/shdir/sh "$N" & more="$more $!"
  HVKL_QUIET=1 /tmp/kl-late "$N" late & more="$more $!"
  HVKL_QUIET=1 /tmp/kl-rename "$N" rename & more="$more $!"
  HVKL_QUIET=1 /tmp/kl-uring "$N" uring & more="$more $!"
fi
busy=""
if [ "${kl_busy:-0}" = 1 ]; then
  dd if=/dev/zero of=/dev/null bs=1 2>/dev/null &
  busy=$!
  echo "HVMON-GUEST: busy dd pid=$busy"
fi
sleep 1
echo "HVMON-GUEST: KEYLOG typing keys=$N lines=$L"
rc=0
wait $k1 || rc=$?
wait $k2 || rc=$?
[ -z "$k0" ] || wait $k0 || rc=$?
for p in $more; do wait $p || rc=$?; done
if [ "${kl_more:-0}" = 1 ]; then
  /tmp/kl-raw "${kl_raw:-10}" raw || rc=$?
  touch /tmp/kl-less-go
fi
wait $ttypid || rc=$?
if [ "${kl_more:-0}" = 1 ]; then
  # issue 15 item 5 gap A: tty1 read through io_uring (IORING_OP_READ on the tty fd) by kl-ttyuring,
  # which is not tty1's foreground (no controlling terminal: opened O_NOCTTY) — once the shell and
  # less are gone, so it is tty1's only reader; the host types kl_tu=T (default 12) keys after
  # "KEYLOG tty uring typing"
  cp /modules/hvkeylog /tmp/kl-ttyuring
  /tmp/kl-ttyuring "${kl_tu:-12}" uringtty /dev/tty1 &
  tu=$!
  sleep 1
  echo "HVMON-GUEST: KEYLOG tty uring typing"
  wait $tu || rc=$?
  # issue 15 item 5, "another session's terminal": kl-otty is the foreground of its own controlling
  # terminal (a pty of its own session) and read(2)s /dev/tty1, tty1's only reader now
  cp /modules/hvkeylog /tmp/kl-otty
  /tmp/kl-otty "${kl_ot:-11}" ptyread /dev/tty1 &
  ot=$!
  sleep 1
  echo "HVMON-GUEST: KEYLOG other tty typing"
  wait $ot || rc=$?
fi
if [ -n "$busy" ]; then kill $busy; wait $busy 2>/dev/null; echo "HVMON-GUEST: busy dd stopped"; fi
echo "HVMON-GUEST: keylogger scenario done rc=$rc"
exit $rc

# Scenario part "hvtamper" (issue 15, docs/PROBES.md "Tampering"), run by hvtest.sh in core_hvtest's
# boot (the tracer's probes are placed): tests/guest/hvtamper/hvtamper.ko writes 0xCC over the
# kernel_execve probe for 1.5 s, then runs a usermode helper, and maps a copy of do_exit's page;
# then a program runs (its exec and exit must be traced: the probes are re-established), and
# hvvfork blocks 20 vforks at once (the tracer's pending table overflows: trace_lost); last,
# `hvvfork silent` gets a private kernel half (hvtamper.ko's /proc/hvtamper_silent) and forks;
# then `hvvfork hold` has the guest's int3 held on kernel_clone while 6 children appear together.
# The same int3 sits on kernel_clone meanwhile while a vfork parent blocked in kernel_clone since
# before returns (hvvfork wait): hvmon must take that return at the suspended site (a fork event).
# one pass over /proc/kallsyms (each read of it costs the guest ~3 s in Bochs), then lookups in that
kall=$(grep -E ' [Tt] (kernel_execve|do_exit|kernel_clone|do_execveat_common(\.[a-z]*\.[0-9]*)*)$' /proc/kallsyms)
ks() { printf '%s\n' "$kall" | sed -n "s/^\([0-9a-f]*\) [Tt] $1\$/0x\1/p" | head -1; }
# a local symbol may carry a compiler suffix (do_execveat_common.isra.0 on 6.1 cloud)
ksl() { printf '%s\n' "$kall" | sed -n "s/^\([0-9a-f]*\) [Tt] $1\(\.[a-z]*\.[0-9]*\)*\$/0x\1/p" | head -1; }
ex=$(ks kernel_execve); dx=$(ks do_exit); ck=$(ks kernel_clone); de=$(ksl do_execveat_common)
echo "HVMON-GUEST: hvtamper kernel_execve=${ex:-none} do_exit=${dx:-none} kernel_clone=${ck:-none} do_execveat_common=${de:-none}"
[ -n "$ex" ] && [ -n "$dx" ] && [ -n "$ck" ] || exit 2
[ -f /modules/hvtamper.ko ] || exit 3
# the vfork parent enters kernel_clone before the int3 (its child is running once the file exists)
rm -f /tmp/hvvfork.ready
/modules/hvvfork wait hvtamper 500 &
vf=$!
i=0; while [ ! -e /tmp/hvvfork.ready ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
insmod /modules/hvtamper.ko int3_va="$ex" int3b_va="$ck" remap_va="$dx" hold_va="$ck" ${de:+silent_va="$ck" silent_vb="$de"} || exit 4
wait $vf
dmesg | grep -o 'HVTAMPER: .*' | sed 's/^/HVMON-GUEST: /'
# hvmon moves the do_exit probe at its second check (100 ms apart)
sleep 1
/bin/busybox true hvtamper-after-remap
echo "HVMON-GUEST: hvtamper after-remap rc=$?"
/modules/hvvfork
echo "HVMON-GUEST: hvvfork exit=$?"
# a private kernel half for one process (docs/PROBES.md "A private kernel half"): its forks and its
# own exec would run on unprobed copies of kernel_clone's and do_execveat_common's pages; hvmon puts
# the kernel's root entry back during its first 300 ms, so its 6 forks and its exec are traced
/modules/hvvfork silent 6
echo "HVMON-GUEST: hvvfork silent exit=$?"
dmesg | grep -o 'HVTAMPER: silent=.*' | sed 's/^/HVMON-GUEST: /'
/bin/busybox true hvtamper-after-silent
echo "HVMON-GUEST: hvtamper after-silent rc=$?"
# probes that stop firing (docs/PROBES.md "Tampering", silent): the guest's int3 held on kernel_clone
# while 6 children live together; nothing else forks or execs meanwhile (this shell waits)
/modules/hvvfork hold 6
echo "HVMON-GUEST: hvvfork hold exit=$?"
dmesg | grep -o 'HVTAMPER: hold=.*' | sed 's/^/HVMON-GUEST: /'
/bin/busybox true hvtamper-after-hold
echo "HVMON-GUEST: hvtamper after-hold rc=$?"

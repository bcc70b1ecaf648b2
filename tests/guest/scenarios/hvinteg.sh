# Scenario part "hvinteg" (issue 15, docs/MONITORS.md "Integrity monitor"): the rootkit's moves
# (tests/guest/hvtest/hvinteg.c: LSTAR and SYSENTER_EIP hooks, CR0.WP cleared, the IDT moved to a
# copy, IDT/GDT swapped, one byte of kernel text and of sys_call_table changed through an alias,
# text_poke of a jmp over an ftrace NOP), then the kernel's own code patching, which must give no
# attack-severity event: ftrace on one function, two kprobes (issue 15 item 3 B: `patch` and
# `unverified`), a static key flipped, a module loaded and unloaded.
# Run by hvtest.sh (core_hvtest's boot, 6.1) and k510.sh (k510_bochs's boot, 5.10); their scripts
# check hvmon's side (tests/integration/hostile-lib.sh). Exit 1 when the module did not load.
ok=0
# one pass over /proc/kallsyms (each read of it costs the guest ~3 s in Bochs), then lookups in that
kall=$(grep -E ' (__x64_sys_acct|sys_call_table|text_poke|__x64_sys_swapoff)$' /proc/kallsyms)
ksym() { printf '%s\n' "$kall" | sed -n "s/^\([0-9a-f]*\) . $1\$/0x\1/p" | head -1; }
insmod /modules/hvinteg.ko ktext="$(ksym __x64_sys_acct)" sct="$(ksym sys_call_table)" \
  tpoke="$(ksym text_poke)" fsite="$(ksym __x64_sys_swapoff)" ||
  { echo "HVMON-GUEST: hvtest check failed: insmod hvinteg"; ok=1; }
rmmod hvinteg
# ... and the kernel's own code patching, which must give no attack-severity event: ftrace on one
# function (ksys_sync, which sync(1) calls), a static key flipped (schedstats), a module loaded and unloaded
tr=/sys/kernel/tracing
[ -d $tr/events ] || mount -t tracefs nodev $tr 2>/dev/null
fn=""
for f in ksys_sync do_sys_openat2; do echo $f > $tr/set_ftrace_filter 2>/dev/null && { fn=$f; break; }; done
if [ -n "$fn" ] && echo function > $tr/current_tracer; then
  sync; cat /proc/version > /dev/null; sync; sleep 1
  n=$(grep -c " $fn" $tr/trace)
  echo nop > $tr/current_tracer; echo > $tr/set_ftrace_filter
  echo "HVMON-GUEST: hvtest integ ftrace=on fn=$fn traced=$n"
else
  echo "HVMON-GUEST: hvtest integ ftrace=unavailable"
fi
# issue 15 item 3 B: kprobes through kprobe_events — one at do_sys_openat2's entry (an ftrace site:
# kprobes on ftrace, `patch`) and one a few bytes in (the first offset the kernel accepts: an
# instruction boundary): text_poke's int3, then the optprobe's jump — on none of the kernel's lists,
# so `unverified`, never reverted under integrity_action=block. Both must fire (kprobe_profile's hit
# counts), the guest must keep working; then both removed (unoptimized, disarmed)
if [ -w $tr/kprobe_events ]; then
  off=""
  echo 'p:hvk do_sys_openat2' > $tr/kprobe_events
  for o in 5 6 7 8 9 10 11 12 13 14 15 16; do
    echo "p:hvk2 do_sys_openat2+$o" >> $tr/kprobe_events 2>/dev/null && { off=$o; break; }
  done
  echo 1 > $tr/events/kprobes/enable
  cat /proc/version > /dev/null; sleep 1; cat /proc/version > /dev/null; sleep 1; cat /proc/version > /dev/null
  prof=$(tr -s ' ' < $tr/kprobe_profile | tr '\n' ';')
  echo 0 > $tr/events/kprobes/enable; echo > $tr/kprobe_events
  sleep 1; cat /proc/version > /dev/null
  echo "HVMON-GUEST: hvtest integ kprobe off=${off:-none} profile=$prof"
else
  echo "HVMON-GUEST: hvtest integ kprobe=unavailable"
fi
if echo 1 > /proc/sys/kernel/sched_schedstats; then
  sleep 1; echo 0 > /proc/sys/kernel/sched_schedstats; echo "HVMON-GUEST: hvtest integ static_key=flipped"
fi
insmod /modules/hvinteg.ko attack=0 && rmmod hvinteg && echo "HVMON-GUEST: hvtest integ module=loaded_unloaded"
exit $ok

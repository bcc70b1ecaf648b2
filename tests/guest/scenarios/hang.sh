# Scenario "hang" (docs/MONITORS.md): a busy workload (no hang may be reported), then fault injection
# through /proc/faultinj (tests/guest/faultinj, loaded at boot). Parameters from the kernel
# command line (init's environment):
#   fi_busy=S     seconds of guest time of busy workload first (default 60; 0 = none)
#   fi_secs=N     length of each recoverable hang (default 7)
#   fi_tests=irqoff,preemptoff,spinlock   recoverable triggers, in order (comma-separated);
#                 also rtspin: /modules/rtspin (tests/guest/faultinj/rtspin.c) spins N s in user
#                 mode at SCHED_FIFO 99 with RT throttling off (sched_rt_runtime_us=-1, restored
#                 after): no other task runs (no_switch)
#                 (none: no trigger; with fi_gap=S an idle phase of S s for measurements)
#   fi_repeat=R   run the list R times, each round in a random rotation (default 1)
#   fi_gap=S      idle guest seconds between triggers (default 2; "rand": 0-3 s, varied moments)
#   fi_bg=1       keep a fork/exec + CPU load running in the background during the triggers
#   fi_bg=events  a light background: one /bin/true every 0.5 s (~12 tracer events/s, the CPU mostly idle:
#                 with fi_pin, CPU 0 keeps producing events while CPU C hangs, at little emulation cost)
#   fi_bg=mix     per trigger, a random background during the gap and the trigger: none (idle),
#                 cpu (shell loop), forkexec (true/ls/cat storm) or io (dd/cat/sync on tmpfs);
#                 the trigger line says which: "HVMON-GUEST: trigger irqoff 3 bg=io"
#   fi_idle=S     idle guest seconds after the busy phase (measurements; default 0)
#   fi_final=deadlock|none   end with a real self-deadlock (never returns; default none)
#   fi_pin=C      (several CPUs, issue 11) every trigger runs pinned to CPU C (taskset), the final
#                 deadlock too; fi_bg's background load then runs pinned to CPU 0, so CPU 0 keeps
#                 producing events while C hangs. With fi_final=deadlock, fi_secs s after CPU C's
#                 deadlock (a partial hang) a writer pinned to CPU 0 deadlocks on the same spinlock
#                 (a whole-machine hang: no CPU progresses)
#   fi_busy1=S    after the busy phase, S more seconds of it pinned to CPU 0 only (the other CPUs idle)
busy=${fi_busy:-60}; secs=${fi_secs:-7}; gap=${fi_gap:-2}
pin=""; bgpin=""
if [ -n "${fi_pin:-}" ]; then
  pin="taskset -c $fi_pin"; bgpin="taskset -c 0"
  echo "HVMON-GUEST: cpus online=$(cat /sys/devices/system/cpu/online); triggers on cpu $fi_pin"
fi
list=$(echo "${fi_tests:-irqoff,preemptoff,spinlock}" | tr , ' ')
[ "$list" = none ] && list=""
tests=""
r=0
while [ $r -lt "${fi_repeat:-1}" ]; do
  r=$((r+1)); set -- $list; k=0
  [ "${fi_repeat:-1}" -gt 1 ] && k=$((RANDOM % $#))
  while [ $k -gt 0 ]; do x=$1; shift; set -- "$@" "$x"; k=$((k-1)); done
  tests="$tests $*"
done
# faultinj is loaded by init (hv_boot --modules), or shipped with --no-load next to rtspin
[ -w /proc/faultinj ] || [ ! -f /modules/faultinj.ko ] || { insmod /modules/faultinj.ko; echo "HVMON-GUEST: insmod faultinj rc=$?"; }
[ -w /proc/faultinj ] || { echo "HVMON-GUEST: no /proc/faultinj"; exit 2; }
# fi_graph=1 (issue 15 item 3 B; hang_bochs_510.sh): the function-graph tracer on one function and off
# again. On 5.10 it rewrites ftrace_graph_call (a jmp inside ftrace_caller) besides the function's
# ftrace site: the integrity monitor must call both `patch`, not `attack`
if [ "${fi_graph:-0}" = 1 ]; then
  tr=/sys/kernel/tracing
  [ -d $tr/events ] || mount -t tracefs nodev $tr 2>/dev/null
  if echo ksys_sync > $tr/set_ftrace_filter && echo function_graph > $tr/current_tracer; then
    sync; sleep 1; sync
    n=$(grep -c ksys_sync $tr/trace)
    echo nop > $tr/current_tracer; echo > $tr/set_ftrace_filter
    sleep 1
    echo "HVMON-GUEST: graph tracer on fn=ksys_sync traced=$n, off again"
  else
    echo "HVMON-GUEST: graph tracer unavailable"
  fi
fi
khz=$(dmesg | sed -n 's/.*FAULTINJ: ready tsc_khz=\([0-9]*\).*/\1/p' | tail -n1)
# user-mode scheduler starvation (no_switch): SCHED_FIFO 99 spinner, RT throttling off
rtspin() {
  [ -x /modules/rtspin ] || { echo "HVMON-GUEST: rtspin missing"; return 2; }
  [ -n "$khz" ] || { echo "HVMON-GUEST: rtspin: no tsc_khz"; return 2; }
  old=$(cat /proc/sys/kernel/sched_rt_runtime_us)
  echo -1 > /proc/sys/kernel/sched_rt_runtime_us || return 2
  $pin /modules/rtspin "$1" "$khz"; rc=$?
  echo "$old" > /proc/sys/kernel/sched_rt_runtime_us
  return $rc
}
up() { cut -d. -f1 /proc/uptime; }
mark() { echo "mark $1" > /proc/faultinj; }   # FAULTINJ: mark <phase> tsc=... (hvmon's clock)
# background workloads (also used by fi_bg=mix); each prints its operation count when it ends
w_cpu() { n=0; while [ "$(up)" -lt "$1" ]; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; n=$((n+1)); done
  echo "HVMON-GUEST: busy cpu loops=$n (x2000 shell iterations)"; }
w_forkexec() { n=0; while [ "$(up)" -lt "$1" ]; do /bin/true; ls / > /dev/null; echo x | cat > /dev/null; n=$((n+1)); done
  echo "HVMON-GUEST: busy forkexec iterations=$n (true+ls+cat pipeline)"; }
w_io() { n=0; while [ "$(up)" -lt "$1" ]; do dd if=/dev/zero of=/tmp/fi.dat bs=64k count=32 2>/dev/null
    cat /tmp/fi.dat > /dev/null; sync; rm -f /tmp/fi.dat; n=$((n+1)); done
  echo "HVMON-GUEST: busy io iterations=$n (2 MiB dd+cat+sync)"; }
if [ "$busy" -gt 0 ]; then
  end=$(( $(up) + busy ))
  mark busy_start; echo "HVMON-GUEST: busy start uptime=$(up) until=$end"
  w_cpu "$end" & w_forkexec "$end" & w_io "$end" &
  wait
  mark busy_end; echo "HVMON-GUEST: busy end uptime=$(up)"
fi
if [ "${fi_busy1:-0}" -gt 0 ]; then
  end=$(( $(up) + fi_busy1 ))
  mark busy1_start; echo "HVMON-GUEST: busy1 start uptime=$(up) until=$end (cpu 0 only)"
  # the functions run in subshells pinned to CPU 0 (their children inherit it)
  taskset -p -c 0 $$ > /dev/null
  w_cpu "$end" & w_forkexec "$end" & w_io "$end" &
  wait
  taskset -p -c "0-$(( $(grep -c '^processor' /proc/cpuinfo) - 1 ))" $$ > /dev/null
  mark busy1_end; echo "HVMON-GUEST: busy1 end uptime=$(up)"
fi
if [ "${fi_idle:-0}" -gt 0 ]; then
  mark idle_start; echo "HVMON-GUEST: idle start uptime=$(up)"
  sleep "$fi_idle"
  mark idle_end; echo "HVMON-GUEST: idle end uptime=$(up)"
fi
if [ "${fi_bg:-0}" = 1 ]; then
  $bgpin sh -c 'while :; do /bin/true; i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; done' &
  bgpid=$!
elif [ "${fi_bg:-0}" = events ]; then
  $bgpin sh -c 'while :; do /bin/true; sleep 0.5; done' &
  bgpid=$!
fi
for t in $tests; do
  bg=""
  if [ "${fi_bg:-0}" = mix ]; then
    set -- none cpu forkexec io; k=$((RANDOM % 4)); shift $k; bg=$1
    [ "$bg" = none ] || { "w_$bg" 2147483647 > /dev/null & bgw=$!; }
  fi
  if [ "$gap" = rand ]; then
    r=$((RANDOM % 4)); ms=$((RANDOM % 1000)); sleep "$r.$(printf %03d $ms)"
  else
    sleep "$gap"
  fi
  mark "bg=${bg:-none}"     # on the kernel log: a console echo can be split by the module's printk
  echo "HVMON-GUEST: trigger $t $secs${bg:+ bg=$bg}"
  if [ "$t" = rtspin ]; then rtspin "$secs"; elif [ -n "$pin" ]; then $pin sh -c "echo '$t $secs' > /proc/faultinj"
  else echo "$t $secs" > /proc/faultinj; fi
  echo "HVMON-GUEST: trigger $t done rc=$?"
  if [ -n "$bg" ] && [ "$bg" != none ]; then kill "$bgw"; wait "$bgw" 2>/dev/null; fi
done
if [ "${fi_final:-none}" = deadlock ] && [ -n "$pin" ]; then
  # several CPUs: a partial hang first (CPU $fi_pin deadlocked while the background keeps CPU 0
  # producing events), then a whole-machine hang: a writer pinned to CPU 0 spins on the same held
  # spinlock, so no CPU progresses any more
  sleep 2
  echo "HVMON-GUEST: trigger deadlock"
  $pin sh -c 'echo deadlock > /proc/faultinj' &
  sleep "$secs"   # > hang_timeout: the partial hang is reported meanwhile
  [ -n "${bgpid:-}" ] && kill "$bgpid"
  echo "HVMON-GUEST: trigger deadlock cpu 0 (whole machine)"
  taskset -c 0 sh -c 'echo deadlock > /proc/faultinj'
  exit 0
fi
[ -n "${bgpid:-}" ] && kill "$bgpid"
sleep 2
if [ "${fi_final:-none}" = deadlock ]; then
  echo "HVMON-GUEST: trigger deadlock"
  echo deadlock > /proc/faultinj
fi
exit 0

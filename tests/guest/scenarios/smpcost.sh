# Scenario "smpcost" (issue 11, docs/BENCHMARKS.md "Several CPUs"; tests/campaign/smp_cost.sh):
# IDLE guest seconds idle (smp_idle=, default 0), then BUSY guest seconds with a shell loop pinned
# to each online CPU (smp_busy=, default 0). hvmon's exit statistics at power-off give the counts.
idle=${smp_idle:-0}; busy=${smp_busy:-0}
echo "HVMON-GUEST: smpcost online $(cat /sys/devices/system/cpu/online) idle=$idle busy=$busy"
[ "$idle" -gt 0 ] && sleep "$idle"
if [ "$busy" -gt 0 ]; then
  pids=""
  for c in $(seq 0 $(($(grep -c ^processor /proc/cpuinfo) - 1))); do
    taskset -c "$c" sh -c 'while :; do :; done' &
    pids="$pids $!"
  done
  sleep "$busy"
  kill $pids
fi
grep -E '^ *(LOC|RES|CAL|TLB):' /proc/interrupts | sed 's/^/HVMON-GUEST: smpcost irq /'
echo "HVMON-GUEST: smpcost done"

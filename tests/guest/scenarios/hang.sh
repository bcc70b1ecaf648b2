# Scenario "hang" (issue 5): a busy workload (no hang may be reported), then fault injection
# through /proc/faultinj (tests/guest/faultinj, loaded at boot). Parameters from the kernel
# command line (init's environment):
#   fi_busy=S     seconds of guest time of busy workload first (default 60; 0 = none)
#   fi_secs=N     length of each recoverable hang (default 7)
#   fi_tests="irqoff preemptoff spinlock"   recoverable triggers, in order (repeatable names)
#   fi_gap=S      idle guest seconds between triggers (default 2)
#   fi_final=deadlock|none   end with a real self-deadlock (never returns; default none)
busy=${fi_busy:-60}; secs=${fi_secs:-7}; gap=${fi_gap:-2}
tests=${fi_tests:-"irqoff preemptoff spinlock"}
[ -w /proc/faultinj ] || { echo "HVMON-GUEST: no /proc/faultinj"; exit 2; }
up() { cut -d. -f1 /proc/uptime; }
if [ "$busy" -gt 0 ]; then
  end=$(( $(up) + busy ))
  echo "HVMON-GUEST: busy start uptime=$(up) until=$end"
  ( while [ "$(up)" -lt "$end" ]; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; done ) &
  ( n=0; while [ "$(up)" -lt "$end" ]; do /bin/true; ls / > /dev/null; echo x | cat > /dev/null; n=$((n+1)); done
    echo "HVMON-GUEST: busy forkexec iterations=$n" ) &
  ( while [ "$(up)" -lt "$end" ]; do dd if=/dev/zero of=/tmp/fi.dat bs=64k count=32 2>/dev/null
      cat /tmp/fi.dat > /dev/null; sync; rm -f /tmp/fi.dat; done ) &
  wait
  echo "HVMON-GUEST: busy end uptime=$(up)"
fi
for t in $tests; do
  sleep "$gap"
  echo "HVMON-GUEST: trigger $t $secs"
  echo "$t $secs" > /proc/faultinj
  echo "HVMON-GUEST: trigger $t done rc=$?"
done
sleep "$gap"
if [ "${fi_final:-none}" = deadlock ]; then
  echo "HVMON-GUEST: trigger deadlock"
  echo deadlock > /proc/faultinj
fi
exit 0

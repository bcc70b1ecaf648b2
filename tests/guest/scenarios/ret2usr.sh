# Scenario "ret2usr" (docs/MONITORS.md): attacks through /proc/faultinj (tests/guest/faultinj).
#   fi_r2u=execuser,smepoff_exec   attacks, in order (comma-separated); each runs in its own shell (the guest
#                                    kernel's oops ends that shell, the scenario goes on)
#   fi_repeat=R                    run the list R times (default 1)
# A bystander process runs during the attacks: ret2usr_action=kill must end only the attacking shell.
# Markers: "attack T pid=P shell rc=R" (P: the writer to /proc/faultinj; R 137: killed), "attacker survived"
# (only if a write returned), "bystander pid=B alive|gone", "alive after N attacks".
tests=""
r=0
while [ $r -lt "${fi_repeat:-1}" ]; do r=$((r+1)); tests="$tests $(echo "${fi_r2u:-execuser,smepoff_exec}" | tr , ' ')"; done
[ -w /proc/faultinj ] || { echo "HVMON-GUEST: no /proc/faultinj"; exit 2; }
grep -o 'smep\|smap' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/^/HVMON-GUEST: cpu flags: /'; echo
( while :; do sleep 1; done ) &
by=$!
echo "HVMON-GUEST: bystander pid=$by"
n=0
for t in $tests; do
  n=$((n+1))
  echo "HVMON-GUEST: attack $t"
  # the writer is this inner shell (pid $a); it prints "survived" only if its write returned. Its pid is
  # printed by the parent afterwards: an echo right before the write could be split by the module's printk.
  sh -c 'echo '"$t"' > /proc/faultinj; echo "HVMON-GUEST: attacker survived"' &
  a=$!
  wait $a
  rc=$?
  echo "HVMON-GUEST: attack $t pid=$a shell rc=$rc"
  sleep 1
done
# the system still works after the attacks, and the bystander was not touched
if kill -0 $by 2>/dev/null; then echo "HVMON-GUEST: bystander pid=$by alive"; else echo "HVMON-GUEST: bystander pid=$by gone"; fi
kill $by
ls / > /dev/null && echo "HVMON-GUEST: alive after $n attacks"
exit 0

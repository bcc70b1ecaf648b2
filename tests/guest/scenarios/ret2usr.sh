# Scenario "ret2usr" (issue 5): attacks through /proc/faultinj (tests/guest/faultinj).
#   fi_r2u=execuser,smepoff_exec   attacks, in order (comma-separated); each runs in its own shell (the guest
#                                    kernel's oops ends that shell, the scenario goes on)
#   fi_repeat=R                    run the list R times (default 1)
tests=""
r=0
while [ $r -lt "${fi_repeat:-1}" ]; do r=$((r+1)); tests="$tests $(echo "${fi_r2u:-execuser,smepoff_exec}" | tr , ' ')"; done
[ -w /proc/faultinj ] || { echo "HVMON-GUEST: no /proc/faultinj"; exit 2; }
grep -o 'smep\|smap' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/^/HVMON-GUEST: cpu flags: /'; echo
n=0
for t in $tests; do
  n=$((n+1))
  echo "HVMON-GUEST: attack $t"
  sh -c "echo $t > /proc/faultinj"
  echo "HVMON-GUEST: attack $t shell rc=$?"
  sleep 1
done
# the system still works after the attacks
ls / > /dev/null && echo "HVMON-GUEST: alive after $n attacks"
exit 0

# Scenario "hvcrash" (docs/TESTING.md): the hvtest module triple-faults the guest on purpose; hvmon must
# print the full guest state and halt (on_guest_crash=halt). Nothing after insmod should run.
# With several CPUs online (issue 11) it does so from the highest-numbered CPU (taskset): a fatal
# error on an AP stops every CPU with one report.
last=$(($(grep -c ^processor /proc/cpuinfo) - 1))
echo "HVMON-GUEST: hvcrash on cpu $last"
taskset -c $last insmod /modules/hvtest.ko triple_fault=1
echo "HVMON-GUEST: hvcrash survived the triple fault"
exit 1

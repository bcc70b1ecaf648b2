# Scenario "tracer" (docs/TRACER.md): run the tracer workload (/modules/tracer-work, put in the
# initramfs by tests/integration/tracer_bochs.sh with --no-load) and let it print its own
# record; first read probed kernel functions through /proc/kcore (must be the original bytes).
#   tr_cpus=0,1     (kernel command line, issue 11) run the workload once per CPU, pinned with
#                   taskset, in that order; "HVMON-GUEST: cpus online=N" first
#   tr_r2u=1        then the ret2usr attacks (scenario ret2usr) from a shell pinned to the last
#                   CPU of tr_cpus (needs faultinj.ko loaded)
[ -x /modules/tracer-work ] || { echo "HVMON-GUEST: tracer-work missing"; exit 2; }
echo 0 > /proc/sys/kernel/kptr_restrict
# the SIGSEGV case: no "segfault at 0" kernel line cutting a record line on the console
echo 0 > /proc/sys/debug/exception-trace 2>/dev/null || true
# issue 15: the other ABIs (when their files are in the image) — a static i386 program
# (fork/exec/exit through int $0x80 and the vDSO), then one usermode helper (kernel_clone
# from a kworker, kernel_execve); tracer_compare.py --abi checks their events
other_abis() {
  sleep 1
  if [ -x /modules/hv32 ]; then
    /modules/hv32
    echo "HVMON-GUEST: hv32 exit=$?"
  fi
  # a 64-bit program's fork/exec/exit through int $0x80 (k510_bochs.sh puts it in the image)
  if [ -x /modules/hv64i80 ]; then
    /modules/hv64i80
    echo "HVMON-GUEST: hv64i80 exit=$?"
  fi
  if [ -f /modules/hvumh.ko ]; then
    sleep 3                  # the UART drains the line above before the module's kernel lines
    insmod /modules/hvumh.ko || echo "HVMON-GUEST: insmod hvumh failed"
    echo "HVMON-GUEST: UMH pid=$(cat /tmp/hvumh.pid 2>/dev/null) ret=$(cat /sys/module/hvumh/parameters/ret 2>/dev/null)"
  fi
}
/modules/tracer-work --ktext do_execveat_common kernel_clone do_exit
if [ -z "${tr_cpus:-}" ]; then
  /modules/tracer-work
  rc=$?
  echo "HVMON-GUEST: tracer-work exit=$rc"
  other_abis
  exit $rc
fi
echo "HVMON-GUEST: cpus online=$(grep -c '^processor' /proc/cpuinfo) $(cat /sys/devices/system/cpu/online)"
# load faultinj before the workloads: its kernel lines must not cut a REC line on the console
if [ -n "${tr_r2u:-}" ] && [ ! -w /proc/faultinj ]; then
  insmod /modules/faultinj.ko || echo "HVMON-GUEST: insmod faultinj failed"
  sleep 1
fi
rc=0
for c in $(echo "$tr_cpus" | tr , ' '); do
  echo "HVMON-GUEST: tracer-work pinned cpu=$c"
  # a pinned shell forks the workload, so its creation is on CPU $c too ("; exit": no exec shortcut)
  taskset -c "$c" sh -c '/modules/tracer-work; exit $?' || rc=$?
  last=$c
done
echo "HVMON-GUEST: tracer-work exit=$rc"
other_abis
if [ -n "${tr_r2u:-}" ]; then
  # the attacks run from a shell pinned to $last (children inherit the affinity)
  sleep 3                              # the console drains the REC lines before the oopses
  taskset -c "$last" sh /scenarios/ret2usr.sh || rc=$?
  echo "HVMON-GUEST: ret2usr on cpu=$last done"
fi
exit $rc

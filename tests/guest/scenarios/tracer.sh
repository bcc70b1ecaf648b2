# Scenario "tracer" (docs/TRACER.md): run the tracer workload (/modules/tracer-work, put in the
# initramfs by tests/integration/tracer_bochs.sh with --no-load) and let it print its own
# record; first read probed kernel functions through /proc/kcore (must be the original bytes).
[ -x /modules/tracer-work ] || { echo "HVMON-GUEST: tracer-work missing"; exit 2; }
echo 0 > /proc/sys/kernel/kptr_restrict
# the SIGSEGV case: no "segfault at 0" kernel line cutting a record line on the console
echo 0 > /proc/sys/debug/exception-trace 2>/dev/null || true
/modules/tracer-work --ktext __x64_sys_execve __x64_sys_clone do_exit
/modules/tracer-work
rc=$?
echo "HVMON-GUEST: tracer-work exit=$rc"
exit $rc

# Scenario "tracer-bench" (docs/BENCHMARKS.md "Probes and tracer"): guest
# microbenchmarks run by /modules/tracer-work --bench (a syscall loop, a fork+exec+wait
# loop); hvmon's exit statistics at power-off give the exits per operation.
[ -x /modules/tracer-work ] || { echo "HVMON-GUEST: tracer-work missing"; exit 2; }
/modules/tracer-work --bench-syscall ${BENCH_SYSCALLS:-20000}
/modules/tracer-work --bench-forkexec ${BENCH_FORKS:-100}

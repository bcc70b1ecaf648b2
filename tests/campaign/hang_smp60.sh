#!/usr/bin/env bash
# Issue 11's hang proof with the issue's phase lengths (not in make test: ~2x the wall time of
# tests/integration/hang_bochs.sh, which runs the same checks with 20 s phases): on 2 CPUs, 60 guest
# seconds busy on both CPUs and 60 with CPU 1 idle give no report; then the 5 injections pinned to
# CPU 1 (partial hangs of vCPU 1 while CPU 0 produces events) and the whole-machine deadlock.
# Result in build/runs/hang-smp60/ (docs/BENCHMARKS.md "Several CPUs").
# Usage: tests/campaign/hang_smp60.sh   (run it through /work/lead/slot.sh or alone: one Bochs)
export HANG_CPUS=2 HANG_BUSY=${HANG_BUSY:-60} HANG_BUSY1=${HANG_BUSY1:-60} HANG_RUN=${HANG_RUN:-hang-smp60}
export HV_TIMEOUT=${HV_TIMEOUT:-3000}
exec "$(dirname "$0")/../integration/hang_bochs.sh" cloud

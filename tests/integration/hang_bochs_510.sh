#!/usr/bin/env bash
# Issue 14: hang_bochs.sh's injections (irqoff hard, preemptoff soft, spinlock soft, rtspin
# no_switch, final deadlock) on Debian 11's 5.10 cloud kernel, faultinj built against its
# headers. No busy phase here (suite time: the busy workload's no-false-positive check runs on
# the default kernel in hang_bochs.sh); the 5 reports must still be exactly the 5 injections.
# One CPU (HANG_CPUS=1): hang_bochs.sh runs the 2-CPU proof on the default kernel; this keeps its 1-CPU
# path (a hang of the only CPU is a whole-machine hang) in make test.
export HANG_BUSY=${HANG_BUSY:-0} HANG_CPUS=${HANG_CPUS:-1}
exec "$(dirname "$0")/hang_bochs.sh" 5.10

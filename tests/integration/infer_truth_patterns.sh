#!/usr/bin/env bash
# Issue 3's acceptance test: the design-patterns strategy ALONE (kallsyms and
# BTF ignored) must equal the ground truth (tests/truth/*.json) field by field
# on the pinned kernels; then all strategies together must agree with it
# (a disagreement shows as a missing field). No Bochs.
set -uo pipefail
. "$(dirname "$0")/infer-truth-lib.sh"
infer_truth_run patterns banner,symbols,syscalls,percpu,offsets
infer_truth_run all banner,symbols,syscalls,percpu,offsets
infer_truth_summary

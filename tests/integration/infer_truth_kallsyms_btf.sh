#!/usr/bin/env bash
# hvinfer's kallsyms and BTF strategies, each alone, against ground truth from
# Debian's -dbg packages (tests/truth/*.json, tools/derive-truth.sh), on every
# pinned kernel that has truth. No Bochs. kallsyms answers addresses and
# per-CPU offsets, BTF struct and per-CPU offsets; both must find the banner.
set -uo pipefail
. "$(dirname "$0")/infer-truth-lib.sh"
infer_truth_run kallsyms banner,symbols,syscalls,percpu
infer_truth_run btf banner,percpu,offsets
infer_truth_summary

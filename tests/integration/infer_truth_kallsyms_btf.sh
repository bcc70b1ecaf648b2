#!/usr/bin/env bash
# hvinfer's kallsyms and BTF strategies, each alone, against ground truth from
# Debian's -dbg packages (tests/truth/*.json, tools/derive-truth.sh), on every
# pinned kernel that has truth. No Bochs. kallsyms answers addresses and
# per-CPU offsets, BTF struct and per-CPU offsets; both must find the banner.
set -uo pipefail
. "$(dirname "$0")/infer-truth-lib.sh"
infer_truth_run kallsyms banner,symbols,syscalls,percpu
# Debian 11's 5.10 BTF has no .data..percpu DATASEC: BTF alone cannot know per-CPU
# offsets there (kallsyms and patterns do); that exact reason is accepted, a value is not.
infer_truth_run btf banner,percpu,offsets "" 'btf: [a-z_]+: no \.data\.\.percpu DATASEC in BTF'
infer_truth_summary

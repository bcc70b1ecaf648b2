#!/usr/bin/env bash
# docs/INFER.md, acceptance test: the design-patterns strategy ALONE (kallsyms and
# BTF ignored) must equal the ground truth (tests/truth/*.json) field by field
# on the pinned kernels; then all strategies together must agree with it
# (a disagreement shows as a missing field). Both must exit 0: every applicable
# parameter found (issue 14: also on the Debian 11 5.10 kernels). No Bochs.
set -uo pipefail
. "$(dirname "$0")/infer-truth-lib.sh"
# The optional parameters (docs/INFER.md "Optional parameters": the keylogger's terminal offsets,
# issue 15 item 5) come from BTF only; patterns reports them with exactly this reason, a value is
# still compared. `all` must find them (BTF) like every other field.
infer_truth_run patterns banner,symbols,syscalls,percpu,offsets complete 'patterns: not handled by patterns \((kallsyms and BTF|kallsyms) only\)'
infer_truth_run all banner,symbols,syscalls,percpu,offsets complete
infer_truth_summary

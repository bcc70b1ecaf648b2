#!/usr/bin/env bash
# hvinfer's kallsyms and BTF strategies, each alone, against ground truth from
# Debian's -dbg packages (tests/truth/*.json, tools/derive-truth.sh), on every
# pinned kernel that has truth. No Bochs. kallsyms answers addresses and
# per-CPU offsets, BTF struct and per-CPU offsets; both must find the banner.
set -uo pipefail
. "$(dirname "$0")/infer-truth-lib.sh"
# issue 15 item 5 gap C: kallsyms also gives the keylogger's five terminal offsets, read from the code of
# the functions it names (infer/kallsyms_tty.c); every other offset is BTF's or patterns' (that exact reason)
infer_truth_run kallsyms banner,symbols,syscalls,percpu,offsets "" '^all: no strategy handles it$'
# Debian 11's 5.10 BTF has no .data..percpu DATASEC: BTF alone cannot know per-CPU
# offsets there (kallsyms and patterns do); that exact reason is accepted, a value is not.
infer_truth_run btf banner,percpu,offsets "" 'btf: [a-z_]+: no \.data\.\.percpu DATASEC in BTF'
# issue 15 item 3 B: the integrity monitor's patch-site classifier on each kernel's real lists (found through
# kallsyms, as ring -1 does): at every ftrace call site, jump label and static call the kernel's own forms are
# `patch` and hooks `attack` (tools/integ_sites.c)
for t in "$top"/tests/truth/linux-image-*.json; do
  pkg=$(basename "$t" .json)-unsigned
  img=$("$top/tests/fixtures.sh" kernel "$pkg" 2>/dev/null) || { echo "FAIL - $pkg: no image"; FAILED=$((FAILED + 1)); continue; }
  if out=$("$B/tools/integ-sites" "$img" 2>&1); then
    echo "ok   - $pkg: patch sites: $(printf '%s\n' "$out" | sed -n 's/.*: \([0-9]* ftrace call sites, [0-9]* jump labels, [0-9]* static calls\).*/\1/p'); $(printf '%s\n' "$out" | tail -1)"
    PASSED=$((PASSED + 1))
  else
    echo "FAIL - $pkg: integ-sites: $(printf '%s\n' "$out" | grep -m3 'FAIL\|passed\|integ-sites:' | tr '\n' ' ')"
    FAILED=$((FAILED + 1))
  fi
done
infer_truth_summary

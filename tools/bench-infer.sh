#!/usr/bin/env bash
# tools/bench-infer.sh IMAGE... — hvinfer timing and per-strategy coverage
# (docs/BENCHMARKS.md, "Inference").
#  - wall time: 3 runs of `hvinfer --time --strategy all`, median of the
#    decompression and of the inference (all strategies) phases;
#  - coverage: parameters found by each strategy alone (`--strategy S`).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
H=${HVINFER:-$top/build/tools/hvinfer}
printf '| image | compression | decompress (s) | inference, all (s) | patterns | kallsyms | btf | all |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for K in "$@"; do
  d=(); n=(); comp=?
  for i in 1 2 3; do
    line=$("$H" --time --strategy all "$K" 2>&1 >/dev/null | grep 'inference')
    comp=$(sed -n 's/.*(bzImage \([a-z0-9]*\),.*/\1/p; s/.*(vmlinux.*/none/p' <<<"$line")
    d+=("$(sed -n 's/.*decompress \([0-9.]*\) s).*/\1/p' <<<"$line")")
    n+=("$(sed -n 's/.*inference \([0-9.]*\) s.*/\1/p' <<<"$line")")
  done
  med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
  cov=()
  for s in patterns kallsyms btf all; do
    cov+=("$("$H" --time --strategy $s "$K" 2>&1 >/dev/null | sed -n 's/.*, \([0-9]*\/[0-9]*\) found.*/\1/p')")
  done
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(basename "$K")" "$comp" "$(med "${d[@]}")" \
    "$(med "${n[@]}")" "${cov[@]}"
done

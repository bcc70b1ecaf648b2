#!/usr/bin/env bash
# tools/infer-same.sh OUTDIR [HVINFER] — record hvinfer's output on every fixture kernel,
# for "output byte-identical" checks of engine optimizations (docs/BENCHMARKS.md, issue 14 §4).
# For each kernel in cache/kernels/*/boot/vmlinuz-* (tests/fixtures.sh), each strategy
# (patterns kallsyms btf all), file mode (ELF sections from the bzImage's vmlinux) and
# ring -1 mode (--lstar = the truth's entry_SYSCALL_64, bare reader), it writes the --json
# output and the table, each followed by the exit status, into OUTDIR/<kernel>.<strategy>.<mode>.<out>.
# Compare two trees with diff -r:
#   tools/infer-same.sh /tmp/before /tmp/hvinfer-before   # binary of the old tree
#   make && tools/infer-same.sh /tmp/after && diff -r /tmp/before /tmp/after && echo identical
# HVINFER defaults to build/tools/hvinfer; build/r1sim/hvinfer (tools/hvinfer-r1sim.sh) runs
# the ring -1 code generation. Exits 1 when no kernel is found.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: tools/infer-same.sh OUTDIR [HVINFER]}
bin=${2:-$top/build/tools/hvinfer}
[ -x "$bin" ] || { echo "infer-same: $bin not built" >&2; exit 1; }
mkdir -p "$out"
n=0
for img in "$top"/cache/kernels/*/boot/vmlinuz-*; do
	[ -f "$img" ] || continue
	kver=${img##*/vmlinuz-}
	pkg=$(basename "$(dirname "$(dirname "$img")")")
	truth=$top/tests/truth/linux-image-$kver.json
	lstar=
	[ -f "$truth" ] && lstar=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["symbols"]["entry_SYSCALL_64"])' "$truth")
	for s in patterns kallsyms btf all; do
		for mode in file lstar; do
			extra=()
			if [ "$mode" = lstar ]; then
				[ -n "$lstar" ] || continue
				extra=(--lstar "$lstar")
			fi
			base=$out/$pkg.$s.$mode
			rc=0; "$bin" --json --strategy "$s" "${extra[@]}" "$img" >"$base.json" 2>/dev/null || rc=$?
			echo "exit $rc" >>"$base.json"
			rc=0; "$bin" --strategy "$s" "${extra[@]}" "$img" >"$base.table" 2>/dev/null || rc=$?
			echo "exit $rc" >>"$base.table"
			n=$((n + 1))
		done
	done
done
[ "$n" -gt 0 ] || { echo "infer-same: no kernel in cache/kernels (tests/fixtures.sh)" >&2; exit 1; }
echo "infer-same: $n runs (json + table each) in $out"

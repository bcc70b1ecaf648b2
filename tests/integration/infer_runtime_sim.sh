#!/usr/bin/env bash
# Ring -1 conditions on the host: for each kernel with ground truth, hvinfer
# --lstar (bare reader: no sections, no text range, no image span; only the
# LSTAR value, taken from the truth's entry_SYSCALL_64) must give exactly the
# file-mode JSON, for kallsyms, btf and all strategies.
set -uo pipefail
. "$(dirname "$0")/infer-truth-lib.sh"
for t in "$top"/tests/truth/linux-image-*.json; do
  pkg=$(basename "$t" .json)-unsigned
  if ! img=$("$top/tests/fixtures.sh" kernel "$pkg" 2>/dev/null) || [ ! -f "$img" ]; then
    echo "FAIL - $pkg: could not fetch the kernel image"; FAILED=$((FAILED + 1)); continue
  fi
  lstar=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["symbols"]["entry_SYSCALL_64"])' "$t")
  for s in kallsyms btf all; do
    timeout 300 "$HVINFER" --json --strategy $s "$img" > /tmp/infer_rt_f.$$.json
    timeout 300 "$HVINFER" --json --strategy $s --lstar "$lstar" "$img" > /tmp/infer_rt_r.$$.json
    if python3 - /tmp/infer_rt_f.$$.json /tmp/infer_rt_r.$$.json <<'PY'
import json, sys
f, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
sys.exit(0 if f == r and f["banner"] else 1)
PY
    then echo "ok   - $pkg/$s: --lstar $lstar (bare reader) equals file mode"; PASSED=$((PASSED + 1))
    else echo "FAIL - $pkg/$s: bare-reader output differs from file mode"; FAILED=$((FAILED + 1)); fi
  done
done
rm -f /tmp/infer_rt_[fr].$$.json
infer_truth_summary

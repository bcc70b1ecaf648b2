# Sourced by tests/integration/infer_truth_*.sh: run hvinfer on each pinned
# kernel that has ground truth (tests/truth/*.json) and compare field by field.
# infer_truth_run STRATEGY GROUPS [complete]: prints ok/FAIL lines, adds to PASSED and
# FAILED; infer_truth_summary prints the closing "N passed, M failed" line
# and returns non-zero when any field was wrong or missing. With `complete`, hvinfer
# must also exit 0 (every applicable parameter found; not applicable is not missing,
# e.g. x64_sys_call before the BHI dispatcher: docs/INFER.md).
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${BUILD:-$top/build}
HVINFER=$B/tools/hvinfer

PASSED=0
FAILED=0
infer_truth_summary() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
}

infer_truth_run() {
  local strategy=$1 groups=$2 complete=${3:-} gap=${4:-} pass=0 fail=0 t pkg img out rc
  [ -x "$HVINFER" ] || { echo "FAIL - $HVINFER not built (make tools)"; FAILED=$((FAILED + 1)); return 1; }
  local truths=("$top"/tests/truth/linux-image-*.json)
  [ -e "${truths[0]}" ] || { echo "FAIL - no tests/truth/*.json"; FAILED=$((FAILED + 1)); return 1; }
  for t in "${truths[@]}"; do
    pkg=$(basename "$t" .json)-unsigned
    if ! img=$("$top/tests/fixtures.sh" kernel "$pkg" 2>/dev/null) || [ ! -f "$img" ]; then
      echo "FAIL - $pkg: could not fetch the kernel image (tests/fixtures.sh kernel $pkg)"
      fail=$((fail + 1)); continue
    fi
    out=$(mktemp /tmp/hvinfer.XXXXXX.json)
    timeout 300 "$HVINFER" --json --strategy "$strategy" "$img" > "$out"
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
      echo "FAIL - $pkg: hvinfer --strategy $strategy exited $rc"
      fail=$((fail + 1)); rm -f "$out"; continue
    fi
    if [ -n "$complete" ]; then
      if [ "$rc" -eq 0 ]; then
        echo "ok   - $pkg/$strategy: exit status 0 (every applicable parameter found)"; pass=$((pass + 1))
      else
        echo "FAIL - $pkg/$strategy: exit status $rc (some applicable parameter missing)"; fail=$((fail + 1))
      fi
    fi
    python3 "$top/tests/integration/infer_compare.py" "$t" "$out" "$groups" "$pkg/$strategy" "$gap"
    rc=$?
    local n
    n=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))
g=sys.argv[2].split(",")
n=("banner" in g)+("symbols" in g)*(len(t["symbols"])-1)+("syscalls" in g)*len(t["symbols"]["syscalls"])
n+=("percpu" in g)*len(t["percpu"])+("offsets" in g)*sum(len(d) for d in t["offsets"].values())
print(n)' "$t" "$groups")
    fail=$((fail + rc)); pass=$((pass + n - rc))
    rm -f "$out"
  done
  echo "# $strategy: $pass fields ok, $fail wrong or missing"
  PASSED=$((PASSED + pass)); FAILED=$((FAILED + fail))
  [ "$fail" -eq 0 ]
}

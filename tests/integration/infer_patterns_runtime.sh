#!/usr/bin/env bash
# The design-patterns strategy in ring -1 conditions, on the host: for each
# pinned kernel, hvinfer (file mode: sections, text range) gives
# entry_SYSCALL_64; then build/tools/patterns-rt runs the strategy through a
# bare VA reader with only that LSTAR value as a hint (what ring -1 has at the
# guest's first IA32_LSTAR write, KASLR slide 0) and every field must equal
# the file-mode answer. Then the same under simulated KASLR: patterns-rt
# --kaslr SLIDE lays the image out at its load addresses + SLIDE with the
# payload's relocation tables applied (as the decompressor does) and hints
# LSTAR + SLIDE and GS base = __per_cpu_load + SLIDE; with the slide removed
# every field must again equal the file mode. Also prints measurements.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD:-$top/build}
HVINFER=$B/tools/hvinfer
RT=$B/tools/patterns-rt
pass=0; fail=0
for t in "$HVINFER" "$RT"; do
  [ -x "$t" ] || { echo "FAIL - $t not built (make tools)"; exit 1; }
done
for pkg in $("$top/tests/fixtures.sh" list); do
  if ! img=$("$top/tests/fixtures.sh" kernel "$pkg" 2>/dev/null) || [ ! -f "$img" ]; then
    echo "FAIL - $pkg: could not fetch the kernel image"; fail=$((fail + 1)); continue
  fi
  file_json=$(mktemp /tmp/patterns-file.XXXXXX.json)
  rt_json=$(mktemp /tmp/patterns-rt.XXXXXX.json)
  timeout 300 "$HVINFER" --json --strategy patterns "$img" > "$file_json"
  lstar=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["symbols"]["entry_SYSCALL_64"] or "")' "$file_json")
  if [ -z "$lstar" ]; then
    echo "FAIL - $pkg: file mode found no entry_SYSCALL_64"; fail=$((fail + 1)); continue
  fi
  for slide in 0 0x2e00000 0x1c000000; do
  timeout 300 "$RT" --lstar "$lstar" $([ "$slide" = 0 ] || echo --kaslr "$slide") "$img" > "$rt_json" 2> "$rt_json.err"
  echo "# $pkg slide $slide: $(tail -n 1 "$rt_json.err")"
  python3 - "$file_json" "$rt_json" "$pkg/slide=$slide" <<'PY'
import json, sys
f, r, pkg = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
def flat(d, pre=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict): out.update(flat(v, pre + k + "."))
        else: out[pre + k] = v
    return out
bad = 0
for grp in ("symbols", "percpu", "offsets"):
    ff, rr = flat(f.get(grp, {}), grp + "."), flat(r.get(grp, {}), grp + ".")
    for k in sorted(ff):
        ok = ff[k] is not None and rr.get(k) == ff[k]
        # issue 14: a parameter the kernel does not have (x64_sys_call before the BHI
        # dispatcher) is null and not applicable in both modes, with the same reason (hvinfer
        # prefixes the strategy's name, patterns-rt runs the strategy alone: no prefix)
        name = k.split(".")[-1]
        na = ff[k] is None and rr.get(k, 0) is None and name in f.get("not_applicable", {}) \
            and r.get("not_applicable", {}).get(name) is not None \
            and r["not_applicable"][name] in f["not_applicable"][name]
        # issue 15: an optional parameter (docs/INFER.md) patterns does not handle: missing in both
        # modes with that reason
        opt = ff[k] is None and rr.get(k, 0) is None and \
            "not handled by patterns" in f.get("missing", {}).get(name, "") and \
            "not handled by patterns" in r.get("missing", {}).get(name, "")
        print(("ok   - " if ok or na or opt else "FAIL - ") + f"{pkg} runtime {k} = {rr.get(k)} (file {ff[k]})"
              + (" not applicable in both" if na else "") + (" optional, not handled by patterns in both" if opt else ""))
        bad += not (ok or na or opt)
sys.exit(min(bad, 100))
PY
  rc=$?
  n=$(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
def c(x): return sum(c(v) if isinstance(v, dict) else 1 for v in x.values())
print(c(d["symbols"])+c(d["percpu"])+c(d["offsets"]))' "$file_json")
  fail=$((fail + rc)); pass=$((pass + n - rc))
  done
  rm -f "$file_json" "$rt_json" "$rt_json.err"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]

#!/usr/bin/env python3
"""Compare `hvinfer --json` output with a ground-truth JSON (tools/derive-truth.sh),
field by field. Usage: infer_compare.py TRUTH.json HVINFER.json GROUPS LABEL [GAP]
GROUPS: comma list of banner,symbols,syscalls,percpu,offsets. Prints one
ok/FAIL line per field; exit status = number of failed fields (capped at 100).
GAP (optional regex): a field reported missing with a reason matching it is a
documented gap of the strategy on that kernel, not a failure ("gap" line; a wrong
value is still a failure)."""
import json, re, sys

truth_f, got_f, groups, label = sys.argv[1:5]
gap = re.compile(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else None
truth = json.load(open(truth_f))
try:
    got = json.load(open(got_f))
except Exception as e:  # unparsable output is one failure
    print("FAIL - %s: hvinfer output is not JSON (%s)" % (label, e))
    sys.exit(1)
groups = groups.split(",")
fails = passes = 0

def check(name, want, have, why=None):
    global fails, passes
    if want == have:
        passes += 1
        print("ok   - %s %s = %s" % (label, name, json.dumps(want)))
    elif have is None and gap and why and gap.search(why):
        passes += 1
        print("gap  - %s %s: missing as documented (%s)" % (label, name, why))
    else:
        fails += 1
        extra = " (%s)" % why if why else ""
        print("FAIL - %s %s: want %s, got %s%s" % (label, name, json.dumps(want), json.dumps(have), extra))

missing = got.get("missing", {})
if "banner" in groups:
    check("banner", truth["banner"], got.get("banner"))
if "symbols" in groups:
    for k, v in truth["symbols"].items():
        if k != "syscalls":
            check("symbols." + k, v, got.get("symbols", {}).get(k), missing.get(k))
if "syscalls" in groups:
    for k, v in truth["symbols"]["syscalls"].items():
        check("syscalls." + k, v, got.get("symbols", {}).get("syscalls", {}).get(k), missing.get(k))
if "percpu" in groups:
    for k, v in truth["percpu"].items():
        check("percpu." + k, v, got.get("percpu", {}).get(k), missing.get(k))
if "offsets" in groups:
    for s, d in truth["offsets"].items():
        for k, v in d.items():
            check("offsets.%s.%s" % (s, k), v, got.get("offsets", {}).get(s, {}).get(k), missing.get(k))
print("# %s: %d fields ok, %d wrong or missing" % (label, passes, fails))
sys.exit(min(fails, 100))

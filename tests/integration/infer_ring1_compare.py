#!/usr/bin/env python3
"""Ring -1 inference profile vs. `hvinfer --json` (file mode, same strategies), field by
field with the KASLR slide removed. Usage: infer_ring1_compare.py REF.json RUN.json SLIDE
GUEST_STEXT LINK_TEXT EVENT_JSON (tests/integration/infer_ring1.sh, k510_bochs.sh).
Exit 0 when every check passed."""
import json, sys
ref = json.load(open(sys.argv[1]))
run = json.load(open(sys.argv[2]))
slide = int(sys.argv[3], 16)
stext, link_text = int(sys.argv[4], 16), int(sys.argv[5], 16)
ev = json.loads(sys.argv[6])
ok = bad = 0
def check(cond, what):
    global ok, bad
    if cond: ok += 1; print("ok   - " + what)
    else: bad += 1; print("FAIL - " + what)
def addr(v):
    return None if v is None else int(v, 16)
check(int(run.get("kaslr_slide", "0x0"), 16) == slide, "profile kaslr_slide == logged slide %#x" % slide)
check(stext - link_text == slide, "slide == guest _stext %#x - link _text %#x" % (stext, link_text))
check(run["banner"] == ref["banner"] and ref["banner"], "banner")
check(run["strategy"] == ref["strategy"], "strategy %s" % run["strategy"])
for k, v in ref["symbols"].items():
    if k == "syscalls":
        for s, sv in v.items():
            r = addr(run["symbols"]["syscalls"].get(s))
            check(sv is not None and r is not None and r - slide == addr(sv),
                  "syscalls.%s %s - slide == %s" % (s, run["symbols"]["syscalls"].get(s), sv))
    else:
        r = addr(run["symbols"].get(k))
        if v is None:
            check(r is None, "symbols.%s null in both" % k)
        else:
            check(r is not None and r - slide == addr(v),
                  "symbols.%s %s - slide == %s" % (k, run["symbols"].get(k), v))
for k, v in ref["percpu"].items():
    check(run["percpu"].get(k) == v and v is not None, "percpu.%s %s" % (k, v))
for g, fields in ref["offsets"].items():
    for k, v in fields.items():
        check(run["offsets"][g].get(k) == v and v is not None, "offsets.%s.%s %s" % (g, k, v))
check(run["missing"] == ref["missing"], "missing equal (%d)" % len(ref["missing"]))
check(run.get("found_by") == ref.get("found_by"), "found_by equal")
# issue 14: not applicable is not missing (both keys, same reasons)
check(run.get("not_applicable") == ref.get("not_applicable") and "not_applicable" in ref,
      "not_applicable equal (%d)" % len(ref.get("not_applicable", {})))
check(ev.get("ok") is (len(ref["missing"]) == 0) and ev.get("kernel") and ev["kernel"] in run["banner"],
      "inference event ok=%s, kernel %s" % (ev.get("ok"), ev.get("kernel")))
print("%d passed, %d failed" % (ok, bad))
sys.exit(1 if bad else 0)

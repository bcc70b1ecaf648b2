#!/usr/bin/env bash
# docs/INFER-RING1.md: the inference engine in ring -1, KASLR on (the default Debian
# command line, no nokaslr). Boots the pinned kernel under hvmon in Bochs (twice
# by default) and requires, for each run:
#   - hvmon logged the inference at the first IA32_LSTAR write: the readable
#     summary, the one-line profile and the `inference` event (ok, kernel release);
#   - the profile, with the logged KASLR slide removed from every address, equals
#     `hvinfer --json` (file mode, same strategies) field by field;
#   - the slide equals what the guest itself reports (its _stext from
#     /proc/kallsyms minus the link address of _text = 0xffffffff80000000 + the
#     bzImage's pref_address): an independent check of the slide;
#   - the guest still reached userspace and powered off cleanly.
# Across the runs, at least one slide must be nonzero (KASLR really on).
# Usage: tests/integration/infer_ring1.sh [cloud|generic|6.12] [RUNS]   (default: cloud 2)
# INFER=patterns|kallsyms|btf|all (default all): hvmon's infer= and hvinfer's --strategy.
set -euo pipefail
. "$(dirname "$0")/../bochs/lib.sh"
flavour=${1:-cloud}
runs=${2:-2}
strategy=${INFER:-all}
HVINFER="$HV_TOP/build/tools/hvinfer"
[ -x "$HVINFER" ] || hv_fail "build/tools/hvinfer missing (make tools)"
[ -f "$HV_TOP/build/hvmon.elf" ] || hv_fail "build/hvmon.elf missing (make)"
kernel=$(hv_fixture_kernel "$flavour") || exit 1

# file-mode reference, same strategies as ring -1 (infer=$strategy)
ref=$(mktemp /tmp/infer_ring1_ref.XXXXXX.json)
poller=""
trap 'rm -f "$ref" /tmp/infer_ring1_run.$$.json; [ -z "$poller" ] || kill "$poller" 2>/dev/null || true' EXIT
timeout 600 "$HVINFER" --json --strategy "$strategy" "$kernel" > "$ref" || {
  rc=$?; [ "$rc" = 1 ] || hv_fail "hvinfer --json failed on $kernel (exit $rc)"; }
# link address of _text: 0xffffffff80000000 + setup header pref_address (offset 0x258)
pref=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(0x268); print(struct.unpack_from("<Q",d,0x258)[0])' "$kernel")
link_text=$(printf '%x' $((0xffffffff80000000 + pref)))

# Wall time of the inference inside Bochs: from the first-LSTAR line to the cost line
# appearing in hvmon.log (polled every 0.25 s; an upper bound, shared machine).
wall_poll() {
  local f=$1 a="" i
  for i in $(seq 1 7200); do
    if [ -z "$a" ] && [ -f "$f" ] && grep -aq 'inference: first IA32_LSTAR' "$f"; then a=$(date +%s.%N); fi
    if [ -n "$a" ] && grep -aq 'inference: cost' "$f"; then
      python3 -c 'import sys; print("inference wall time in Bochs: %.1f s" % (float(sys.argv[2]) - float(sys.argv[1])))' \
        "$a" "$(date +%s.%N)" > "$f.wall"; return 0; fi
    sleep 0.25
  done
}

slides=()
fails=0
for i in $(seq 1 "$runs"); do
  # one Bochs at a time on this shared machine: wait while two others run
  for _ in $(seq 1 120); do [ "$(pgrep -c bochs-bin || true)" -lt 2 ] && break; sleep 5; done
  name=infer-ring1-$flavour-$strategy-$i
  rm -f "$HV_TOP/build/runs/$name/hvmon.log" "$HV_TOP/build/runs/$name/hvmon.log.wall"
  wall_poll "$HV_TOP/build/runs/$name/hvmon.log" & poller=$!
  hv_boot "$name" --kernel "$kernel" --scenario boot --hv-opts "console=com2 log=info infer=$strategy"
  kill "$poller" 2>/dev/null || true; wait "$poller" 2>/dev/null || true
  cat "$RUN_DIR/hvmon.log.wall" 2>/dev/null || echo "inference wall time in Bochs: not measured"
  assert_status exit marker
  assert_no_marker guest 'nokaslr' "KASLR must stay on"
  assert_marker hvmon 'hvmon: inference: first IA32_LSTAR write' "inference ran at the first LSTAR write"
  assert_marker guest 'HVMON-GUEST: userspace reached' "guest userspace after inference"
  assert_marker hvmon 'hvmon: guest powered off' "clean power-off"
  assert_no_marker hvmon 'guest crashed|PANIC|EXCEPTION in ring -1' "no crash"
  marker_value hvmon 'hvmon: inference: (cost|KASLR|[0-9]+/)' || true
  tr -d '\000\r' < "$RUN_DIR/hvmon.log" | grep -a '^hvmon: inference profile: ' \
    | sed -n '1s/^hvmon: inference profile: //p' > /tmp/infer_ring1_run.$$.json
  [ -s /tmp/infer_ring1_run.$$.json ] || hv_fail "no 'inference profile' line in hvmon.log"
  ev=$(json_events hvmon inference | sed -n 1p)
  [ -n "$ev" ] || hv_fail "no {\"event\":\"inference\"} line"
  echo "event: $ev"
  stext=$(marker_value guest 'HVMON-GUEST: _stext' | awk '{print $3}')
  [ -n "$stext" ] || hv_fail "guest did not report _stext"
  slide_line=$(marker_value hvmon 'hvmon: inference: KASLR slide') || hv_fail "no KASLR slide line"
  slide=$(echo "$slide_line" | sed -E 's/.*KASLR slide (0x[0-9a-f]+|0).*/\1/')
  slides+=("$slide")
  if python3 "$HV_TOP/tests/integration/infer_ring1_compare.py" "$ref" /tmp/infer_ring1_run.$$.json "$slide" "$stext" "$link_text" "$ev"
  then echo "run $i: ring -1 profile (slide $slide removed) equals hvinfer --json"
  else echo "run $i: FAIL"; fails=$((fails + 1)); fi
done
[ "$fails" = 0 ] || hv_fail "$fails of $runs runs differ from hvinfer"
nonzero=0
for s in "${slides[@]}"; do [ $((s)) -ne 0 ] && nonzero=1; done
[ "$nonzero" = 1 ] || hv_fail "KASLR slide was 0 in all $runs runs (${slides[*]})"
hv_pass "$flavour, infer=$strategy: $runs Bochs boots with KASLR (slides ${slides[*]}): ring -1 profile minus slide == hvinfer --json, field by field"

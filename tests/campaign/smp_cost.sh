#!/usr/bin/env bash
# Exits per second per vCPU by reason, idle and busy, with 2 CPUs (issue 11, docs/BENCHMARKS.md
# "Several CPUs"; not in `make test`). Three Bochs boots of the 6.1 cloud guest (count=2, ips 200M,
# MONITORS default all) with the "smpcost" scenario: base (no phase), IDLE guest seconds idle, BUSY
# guest seconds with a loop pinned to each CPU. A phase's exits = its run's exit statistics minus
# the base run's, per vCPU and reason, divided by the phase's guest seconds. Also the AP start path
# and cross-CPU call ticks from the base run's "smp:" lines.
# Usage: tests/campaign/smp_cost.sh [IDLE (default 60)] [BUSY (default 20)]  -> build/campaign/smp-cost.txt
set -eu
. "$(dirname "$0")/../bochs/lib.sh"
IDLE=${1:-60}; BUSY=${2:-20}
out="$HV_TOP/build/campaign"; mkdir -p "$out"
HV_TIMEOUT=${CAMPAIGN_TIMEOUT:-1800}
logs=()
for ph in "base 0 0" "idle $IDLE 0" "busy 0 $BUSY"; do
  set -- $ph
  hv_boot "smp-cost-$1" --scenario smpcost --cpus 2 --hv-opts "console=com2 log=info" \
    --cmdline "console=ttyS0,115200 panic=-1 loglevel=7 smp_idle=$2 smp_busy=$3"
  assert_status exit
  assert_marker guest 'HVMON-GUEST: smpcost done' "phase $1 ran"
  logs+=("$RUN_DIR/hvmon.log" "$RUN_DIR/guest.log")
done
python3 - "$IDLE" "$BUSY" "${logs[@]}" > "$out/smp-cost.txt" <<'PY'
import re, sys
idle, busy = int(sys.argv[1]), int(sys.argv[2])
def load(h, g):
    t = open(h, errors='replace').read().replace('\0', '')
    st = {}
    for blk in re.finditer(r'exit statistics, vCPU (\d+):.*?\n((?:hvmon:   .*\n)+)', t):
        v = int(blk.group(1))
        for m in re.finditer(r'hvmon:   (\d+) +(.+?) +(\d+) +(\d+) +(\d+)\n', blk.group(2)):
            st[(v, m.group(2).strip())] = (int(m.group(3)), int(m.group(4)))
    gt = open(g, errors='replace').read().replace('\0', '')
    up = re.search(r'userspace reached uptime=([0-9.]+)', gt)
    return st, t, up.group(1) if up else '?'
base, bt, bup = load(sys.argv[3], sys.argv[4])
runs = {'idle': load(sys.argv[5], sys.argv[6]), 'busy': load(sys.argv[7], sys.argv[8])}
print(f"guest uptime at userspace (base run, 2 CPUs under hvmon): {bup} s")
for l in re.findall(r'hvmon: smp: (AP bring-up.*|\d+ cross-CPU call.*)', bt):
    print('base run:', l)
for ph, secs in (('idle', idle), ('busy', busy)):
    st = runs[ph][0]
    print(f"\n{ph}: {secs} guest s; exits/s per vCPU by reason (run minus base), ring -1 TSC ticks/exit")
    print(f"{'vCPU':>4} {'reason':<22} {'exits/s':>9} {'ticks/exit':>10}")
    for v in sorted({k[0] for k in st}):
        tot = 0.0
        for (vv, r), (c, t) in sorted(st.items()):
            if vv != v:
                continue
            bc, btk = base.get((v, r), (0, 0))
            d = c - bc
            if d <= 0 or secs <= 0:
                continue
            tot += d / secs
            print(f"{v:>4} {r:<22} {d / secs:>9.1f} {(t - btk) // d:>10}")
        print(f"{v:>4} {'total':<22} {tot:>9.1f}")
PY
cat "$out/smp-cost.txt"

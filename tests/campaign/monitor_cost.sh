#!/usr/bin/env bash
# Exits per second and ring -1 TSC ticks of the hang, ret2usr and tracer monitors, idle and under load
# (docs/BENCHMARKS.md; not in `make test`). One Bochs boot (ips 200M, 1 vCPU) of the "hang" scenario with
# MONITORS (default hang,ret2usr,tracer): BUSY guest seconds of busy workload (shell CPU loop, fork/exec
# storm, I/O), then IDLE guest seconds idle, no injection. The module's TSC marks delimit the phases;
# hvmon's "hang: stats:" lines (every 10 s of guest time) give the counters; per phase the script takes
# the first and the last stats line inside it and prints rates. Attribution:
#   tick (hang sampler + halt-watch): preemption-timer exits and their ticks (the sampler's own ticks
#   separately); hang's __switch_to probe: #BP exits = probed switches; tracer + ret2usr: the other
#   exception exits (tracer #BP; ret2usr #PF = supervisor instruction fetches only, 0 without attacks);
#   per-probe TSC ticks/hit for the whole run: the power-off probe statistics.
# Usage: tests/campaign/monitor_cost.sh [BUSY (default 60)] [IDLE (default 60)]
#        MONITORS=hang,ret2usr runs without the tracer. MONITOR_COST_OPTS: more hvmon options (e.g.
#        integrity_ept=on with MONITORS=hang,ret2usr,integrity). Writes build/campaign/cost-<monitors>.txt.
set -eu   # not pipefail: lib.sh greps with -q behind tr (SIGPIPE on big logs)
. "$(dirname "$0")/../bochs/lib.sh"
BUSY=${1:-60}; IDLE=${2:-60}; MON=${MONITORS:-hang,ret2usr,tracer}
out="$HV_TOP/build/campaign"; mkdir -p "$out"
ko=$("$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/faultinj") || hv_fail "faultinj module build failed"
HV_GUEST_FATAL='Kernel panic|HVMON-GUEST: poweroff failed'
HV_TIMEOUT=${CAMPAIGN_TIMEOUT:-1800}
name="cost-${MON//,/-}"
hv_boot "$name" --scenario hang --modules "$ko" \
  --hv-opts "console=com2 log=info monitors=$MON hang_timeout=5 ${MONITOR_COST_OPTS:-}" \
  --cmdline "console=ttyS0,115200 panic=-1 loglevel=7 fi_busy=$BUSY fi_idle=$IDLE fi_tests=none"
assert_status exit
python3 - "$RUN_DIR/guest.log" "$RUN_DIR/hvmon.log" "$MON" > "$out/$name.txt" <<'PY'
import re, sys
g = open(sys.argv[1], errors='replace').read().replace('\0', '').replace('\r', '')
h = open(sys.argv[2], errors='replace').read().replace('\0', '').replace('\r', '')
khz = int(re.search(r'tick: TSC (\d+) kHz', h).group(1))
hz = khz * 1000
marks = {m.group(1): int(m.group(2)) for m in re.finditer(r'FAULTINJ: mark (\S+) tsc=(\d+)', g)}
stats = [dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', m.group(1)))
         for m in re.finditer(r'hang: stats: (.*)', h)]
# the __switch_to probe (hang's) and its cost per hit from the power-off probe statistics
sw = re.search(r'probe: hang: probe at (0x[0-9a-f]+)', h)
sw_tph = None
if sw:
    m = re.search(r'probe ' + sw.group(1) + r' \(.*?\): (\d+) hits, (\d+) TSC ticks/hit', h)
    sw_tph = int(m.group(2)) if m else None
pf = re.search(r'ret2usr: (\d+) #PF exits', h)
print(f"monitor cost: monitors={sys.argv[3]}, TSC {khz} kHz, switch probe {sw_tph} TSC ticks/hit, "
      f"#PF exits (whole run) {pf.group(1) if pf else 'n/a'}")
print("phase | guest s | exits/s | timer exits/s | switch-probe #BP/s (hang) | other #BP+#PF/s (tracer, ret2usr) | "
      "ring-1 ticks/s (% of guest TSC) | in timer exits | in exception exits | hang sampler (runs after any exit)")
for ph in ('busy', 'idle'):
    a, b = marks.get(ph + '_start'), marks.get(ph + '_end')
    if a is None or b is None:
        print(f"{ph}: no marks"); continue
    inside = [s for s in stats if a <= s['tsc'] <= b]
    if len(inside) < 2:
        print(f"{ph}: fewer than 2 stats lines inside"); continue
    s0, s1 = inside[0], inside[-1]
    dt = (s1['tsc'] - s0['tsc']) / hz
    d = {k: s1[k] - s0[k] for k in s1 if k in s0}
    other = d['exc_exits'] - d['switches']
    print(f"{ph} | {dt:.0f} | {d['exits'] / dt:.0f} | {d['timer_exits'] / dt:.1f} | {d['switches'] / dt:.1f} | "
          f"{other / dt:.1f} | {d['ring1_ticks'] / dt:.0f} ({100 * d['ring1_ticks'] / (dt * hz):.3f} %) | "
          f"{d.get('timer_ticks', 0) / dt:.0f} | {d.get('exc_ticks', 0) / dt:.0f} | {d['sample_ticks'] / dt:.0f}")
ops = re.findall(r'(cpu loops|forkexec iterations|io iterations)=(\d+)', g)   # the echo may be split by a printk
print("busy workload: " + ", ".join(f"{k}={v}" for k, v in ops))
PY
cat "$out/$name.txt"

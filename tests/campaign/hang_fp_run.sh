#!/usr/bin/env bash
# False positives of the hang and ret2usr detectors over a long busy guest run (docs/BENCHMARKS.md; far too
# long for `make test`). One Bochs boot of the "hang" scenario:
#   BUSY guest seconds of busy workload (3 concurrent loops: shell CPU loop, fork/exec storm
#   true+ls+cat, I/O dd+cat+sync on tmpfs), then IDLE guest seconds idle, then ONE positive control
#   (irqoff 7: the detector must still report it as `hard` after the long run), then power-off.
# hvmon: monitors=hang,ret2usr, hang_timeout=5 (the default T), ret2usr_action=report.
# Bochs runs at IPS instructions per guest second (default 10000000 = 1/20 of the usual 200M):
# with `clock: sync=none` guest time = instructions / ips, so a lower ips gives more guest seconds per
# wall second; it makes the guest a 20x slower CPU, i.e. every kernel path takes 20x longer in guest
# time — conservative for a hang detector whose T is in guest seconds.
# Every hang/ret2usr/cr4_tamper report before the control's start is a false positive.
# Usage: tests/campaign/hang_fp_run.sh [BUSY (default 3600)] [IDLE (default 120)] [IPS (default 1e7)]
# Writes build/campaign/fp.txt (summary) and keeps the run's logs in build/runs/campaign-fp/.
set -eu   # not pipefail: lib.sh greps with -q behind tr (SIGPIPE on big logs)
. "$(dirname "$0")/../bochs/lib.sh"
BUSY=${1:-3600}; IDLE=${2:-120}; IPS=${3:-10000000}
out="$HV_TOP/build/campaign"; mkdir -p "$out"
ko=$("$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/faultinj") || hv_fail "faultinj module build failed"
HV_GUEST_FATAL='Kernel panic|HVMON-GUEST: poweroff failed'
HV_TIMEOUT=${CAMPAIGN_TIMEOUT:-5400}
hv_boot campaign-fp --scenario hang --modules "$ko" --ips "$IPS" \
  --hv-opts "console=com2 log=info monitors=hang,ret2usr hang_timeout=5 ret2usr_action=report" \
  --cmdline "console=ttyS0,115200 panic=-1 loglevel=7 fi_busy=$BUSY fi_idle=$IDLE fi_secs=7 fi_tests=irqoff fi_gap=2"
python3 - "$RUN_DIR/guest.log" "$RUN_DIR/hvmon.log" "$RUN_DIR/result" "$IPS" > "$out/fp.txt" <<'PY'
import math, re, sys
g = open(sys.argv[1], errors='replace').read().replace('\0', '')
h = open(sys.argv[2], errors='replace').read().replace('\0', '')
res = dict(l.split('=', 1) for l in open(sys.argv[3]).read().splitlines() if '=' in l)
ips = int(sys.argv[4])
def num(rx, s, d=None):
    m = re.search(rx, s)
    return int(m.group(1)) if m else d
b0 = num(r'HVMON-GUEST: busy start uptime=(\d+)', g); b1 = num(r'HVMON-GUEST: busy end uptime=(\d+)', g)
i0 = num(r'HVMON-GUEST: idle start uptime=(\d+)', g); i1 = num(r'HVMON-GUEST: idle end uptime=(\d+)', g)
armed = re.search(r'hang: context-switch evidence: (.*)', h)
khz = num(r'tick: TSC (\d+) kHz', h)
ctl = re.search(r'FAULTINJ: irqoff 7 start pid=(\d+) comm=(\S+) tsc=(\d+)', g)
t_ctl = int(ctl.group(3)) if ctl else 1 << 80
reps = [(m.group(1), int(m.group(2)), m.group(3), int(m.group(4))) for m in
        re.finditer(r'hang #\d+: detected (\S+) on vCPU \d+(?:, \w+)?: \d+ ms, RIP \S+, task (-?\d+) \((.*?)\) tsc=(\d+)', h)]
fp_hang = [r for r in reps if r[3] < t_ctl]
ctl_rep = [r for r in reps if r[3] >= t_ctl]
fp_r2u = len(re.findall(r'ret2usr: kernel executed user address', h))
fp_cr4 = len(re.findall(r'ret2usr: cr4_tamper:', h))
pf = re.search(r'ret2usr: (\d+) #PF exits .*?, (\d+) reflected', h)
ops = re.findall(r'(cpu loops|forkexec iterations|io iterations)=(\d+)', g)   # the echo may be split by a printk
stats = [dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', m.group(1)))
         for m in re.finditer(r'hang: stats: (.*)', h)]
print(f"hang/ret2usr false-positive run: ips={ips}, T=5 s, run {res.get('status')} after {res.get('seconds')} s wall")
print(f"  hvmon tick: TSC {khz} kHz; judging armed: {armed.group(1) if armed else 'NO'}")
if b0 is not None and b1 is not None:
    print(f"  busy phase: guest uptime {b0} -> {b1} s = {b1 - b0} s of busy guest time")
if i0 is not None and i1 is not None:
    print(f"  idle phase: guest uptime {i0} -> {i1} s = {i1 - i0} s")
for k, v in ops:
    print(f"  workload: {k}={v}")
marks = {m.group(1): int(m.group(2)) for m in re.finditer(r'FAULTINJ: mark (\S+) tsc=(\d+)', g)}
# busy guest time: from the module's TSC marks (a console echo can be split by a printk), else uptimes
if khz and 'busy_start' in marks and 'busy_end' in marks:
    cover = (marks['busy_end'] - marks['busy_start']) / khz / 1000
else:
    cover = (b1 - b0 if b0 is not None and b1 is not None else 0)
if stats and khz and ctl:
    # guest time under judgement: from arming (first stats line minus its samples) to the control
    last = [s for s in stats if s['tsc'] < t_ctl][-1]
    judged = last['samples'] * 0.1
    print(f"  judged guest time before the control (hang samples x 100 ms): {judged:.0f} s")
print(f"  false positives: hang {len(fp_hang)}, ret2usr {fp_r2u}, cr4_tamper {fp_cr4}; "
      f"#PF exits {pf.group(1) if pf else '?'} of which reflected {pf.group(2) if pf else '?'}")
def phase(t):
    if 'busy_start' in marks and t < marks['busy_start']: return 'boot'
    if 'busy_end' in marks and t < marks['busy_end']: return 'busy'
    return 'idle'
if khz and 'busy_start' in marks and 'busy_end' in marks:
    print(f"  busy phase on the TSC: {(marks['busy_end'] - marks['busy_start']) / khz / 1000:.1f} s")
for r in fp_hang:
    print(f"    FP ({phase(r[3])} phase): {r}")
busy_fp = [r for r in fp_hang if phase(r[3]) == 'busy']
print(f"  hang reports in the busy phase: {len(busy_fp)}; boot: {sum(phase(r[3]) == 'boot' for r in fp_hang)}; "
      f"idle: {sum(phase(r[3]) == 'idle' for r in fp_hang)}")
# the rate is per busy guest time: hang reports of the busy phase (boot/idle ones are listed above),
# and every ret2usr/cr4_tamper report of the run (no attack was made at all)
n = len(busy_fp) + fp_r2u + fp_cr4
hrs = cover / 3600 if cover else float('nan')
# exact Poisson 95% upper bound for n events (n = 0: -ln(0.05) = 3.0)
up = {0: 3.00, 1: 4.74, 2: 6.30, 3: 7.75}.get(n, n + 1.96 * math.sqrt(n) + 2)
print(f"  FP rate (busy phase): {n} in {cover:.0f} s busy guest time = {n / hrs if hrs else float('nan'):.2f}/h; "
      f"95% upper bound {up / hrs if hrs else float('nan'):.2f}/h (Poisson, {n} events)")
if ctl:
    ok = [r for r in ctl_rep if r[0] == 'hard' and r[1] == int(ctl.group(1))]
    lat = (ok[0][3] - t_ctl) / khz if ok and khz else None
    print(f"  positive control irqoff 7: {'detected hard, task ' + str(ok[0][1]) + f', latency {lat:.0f} ms' if ok else 'NOT detected'}")
else:
    print("  positive control: did not run")
PY
cat "$out/fp.txt"
grep -q 'positive control irqoff 7: detected hard' "$out/fp.txt" || hv_fail "positive control not detected"

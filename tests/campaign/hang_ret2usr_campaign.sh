#!/usr/bin/env bash
# Fault-injection campaign for the hang and ret2usr detectors (docs/BENCHMARKS.md; too long for
# `make test`). Two Bochs boots:
#   1. hang: COUNT injections of each recoverable kind (irqoff -> hard, preemptoff -> soft,
#      spinlock -> soft), in random rotations, at random moments: random 0-3.999 s gaps, and per
#      injection a random background during the gap and the spin (BG=mix, the default: none, a shell
#      CPU loop, a fork/exec storm or I/O; BG=1: one fork/exec + CPU load; BG=0: none);
#      hang_timeout=T, each spin N s. FINAL=deadlock (default) ends the boot with one real
#      self-deadlock (never recovers, so one per boot; the run stops at its report); FINAL=none.
#   2. ret2usr: COUNT execuser + COUNT smepoff_exec attacks (guest with SMEP).
# For every injection: detected? right kind? right task? latency (guest TSC, injection start ->
# hvmon report). Prints a summary and writes build/campaign/summary.txt.
# Usage: tests/campaign/hang_ret2usr_campaign.sh [COUNT (default 20)] [T (default 2)] [N (default 3)]
#        PART=hang|ret2usr runs one half only; RUN=NAME names the hang run (several runs side by side:
#        build/runs/NAME, build/campaign/NAME.txt); IPS=N sets Bochs's ips for the hang run (default 200M).
set -eu   # not pipefail: lib.sh greps with -q behind tr (SIGPIPE on big logs)
. "$(dirname "$0")/../bochs/lib.sh"
COUNT=${1:-20}; T=${2:-2}; N=${3:-3}
out="$HV_TOP/build/campaign"; mkdir -p "$out"
ko=$("$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/faultinj") || hv_fail "faultinj module build failed"
HV_GUEST_FATAL='Kernel panic|HVMON-GUEST: poweroff failed'
HV_TIMEOUT=${CAMPAIGN_TIMEOUT:-3600}   # lib.sh already defaulted HV_TIMEOUT to 600: override here
if [ "${PART:-all}" != ret2usr ]; then
RUN=${RUN:-campaign-hang}
FINAL=${FINAL:-deadlock}
stop=()
# the deadlock never recovers: stop at its report (3*COUNT recoverable reports come first)
[ "$FINAL" = deadlock ] && stop=(--stop-on "hvmon:hang #$((3 * COUNT + 1)): detected")
hv_boot "$RUN" --scenario hang --modules "$ko" --hv-opts "console=com2 log=info hang_timeout=$T" \
  --cmdline "console=ttyS0,115200 panic=-1 loglevel=7 fi_busy=0 fi_secs=$N fi_gap=rand fi_bg=${BG:-mix} fi_tests=irqoff,preemptoff,spinlock fi_repeat=$COUNT fi_final=$FINAL" \
  ${stop[@]+"${stop[@]}"} ${IPS:+--ips "$IPS"}
hlog="$RUN_DIR/hvmon.log"; glog="$RUN_DIR/guest.log"
python3 - "$glog" "$hlog" "$T" "$RUN_DIR/result" > "$out/$RUN.txt" <<'PY'
import re, sys
g = open(sys.argv[1], errors='replace').read().replace('\0', '').replace('\r', '')
h = open(sys.argv[2], errors='replace').read().replace('\0', '').replace('\r', '')
T = int(sys.argv[3])
res = dict(l.split('=', 1) for l in open(sys.argv[4]).read().splitlines() if '=' in l)
khz = int(re.search(r'FAULTINJ: ready tsc_khz=(\d+)', g).group(1))
inj = [(m.group(1), int(m.group(2)), m.group(3), int(m.group(4))) for m in
       re.finditer(r'FAULTINJ: (irqoff|preemptoff|spinlock|deadlock)(?: \d+)? start pid=(\d+) comm=(\S+) tsc=(\d+)', g)]
# the background of each recoverable trigger, in order (the scenario's 'mark bg=' before the trigger)
bgs = re.findall(r'FAULTINJ: mark bg=(\S+) tsc=', g)
rep = [(m.group(1), int(m.group(2)), m.group(3), int(m.group(4))) for m in
       re.finditer(r'hang #\d+: detected (\S+) on vCPU \d+(?:, \w+)?: \d+ ms, RIP \S+, task (-?\d+) \((.*?)\) tsc=(\d+)', h)]
recov = len(re.findall(r'hang #\d+: recovered from', h))
want = {'irqoff': 'hard', 'preemptoff': 'soft', 'spinlock': 'soft', 'deadlock': 'soft'}
stats = {}
bgstat = {}
used = set()
for i, (kind, pid, comm, t0) in enumerate(inj):
    t_next = inj[i + 1][3] if i + 1 < len(inj) else 1 << 80
    hit = [r for j, r in enumerate(rep) if j not in used and t0 <= r[3] < t_next]
    s = stats.setdefault(kind, {'n': 0, 'det': 0, 'kind_ok': 0, 'task_ok': 0, 'lat': []})
    bg = 'final' if kind == 'deadlock' else bgs[i] if i < len(bgs) else '?'
    b = bgstat.setdefault(bg, [0, 0])
    s['n'] += 1; b[0] += 1
    if hit:
        j = rep.index(hit[0]); used.add(j)
        r = hit[0]
        s['det'] += 1
        ok = r[0] == want[kind] and r[1] == pid and (r[3] - t0) / khz <= (T + 1) * 1000
        b[1] += ok
        s['kind_ok'] += r[0] == want[kind]
        s['task_ok'] += r[1] == pid
        s['lat'].append((r[3] - t0) / khz)
fp = len(rep) - len(used)
print(f"hang campaign {sys.argv[1].split('/')[-2]}: T={T} s, {len(inj)} injections, {len(rep)} reports, "
      f"{fp} reports not tied to an injection, {recov} hang_recovered; run {res.get('status')} after {res.get('seconds')} s wall")
print("  per background: " + ", ".join(f"{k} {v[1]}/{v[0]} right kind+task within T+1 s" for k, v in sorted(bgstat.items())))
for k, s in stats.items():
    lat = sorted(s['lat'])
    within = sum(1 for l in lat if l <= (T + 1) * 1000)
    print(f"  {k:10s} -> {want[k]}: {s['det']}/{s['n']} detected, kind ok {s['kind_ok']}, task ok {s['task_ok']}, "
          f"within T+1 s {within}; latency ms min {lat[0]:.0f} median {lat[len(lat)//2]:.0f} max {lat[-1]:.0f}"
          if lat else f"  {k}: 0/{s['n']} detected")
PY
cat "$out/$RUN.txt"
fi
[ "${PART:-all}" = hang ] && exit 0
hv_boot campaign-ret2usr --scenario ret2usr --modules "$ko" --hv-opts "console=com2 log=info" \
  --cmdline "console=ttyS0,115200 panic=-1 loglevel=7 fi_r2u=execuser,smepoff_exec fi_repeat=$COUNT"
python3 - "$RUN_DIR/guest.log" "$RUN_DIR/hvmon.log" > "$out/ret2usr.txt" <<'PY'
import re, sys
g = open(sys.argv[1], errors='replace').read().replace('\0', '')
h = open(sys.argv[2], errors='replace').read().replace('\0', '')
inj = re.findall(r'FAULTINJ: (execuser|smepoff_exec) exec user_addr=(0x[0-9a-f]+) pid=(\d+)', g)
det = re.findall(r'kernel executed user address (0x[0-9a-f]+) .* in task (-?\d+) ', h)
tam = len(re.findall(r'ret2usr: cr4_tamper: .* blocked', h))
ran = len(re.findall(r'FAULTINJ: \S+ returned', g))
ok = {'execuser': 0, 'smepoff_exec': 0}; n = {'execuser': 0, 'smepoff_exec': 0}
for kind, addr, pid in inj:
    n[kind] += 1
    if (addr, pid) in det:
        ok[kind] += 1
print(f"ret2usr campaign: {len(inj)} attacks, {len(det)} ret2usr reports, {tam} cr4_tamper blocked, "
      f"{ran} user pages that ran in kernel mode")
for k in n:
    print(f"  {k:12s}: {ok[k]}/{n[k]} detected with the right address and task")
PY
cat "$out/ret2usr.txt"
for f in "${RUN:-campaign-hang}" ret2usr; do [ -f "$out/$f.txt" ] && cat "$out/$f.txt"; done > "$out/summary.txt"

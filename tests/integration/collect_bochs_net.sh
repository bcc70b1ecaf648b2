#!/usr/bin/env bash
# Network channel end to end in Bochs, without the hvmon core: the bare-metal
# self-test kernel (drivers/net/selftest, built as build/net-selftest.elf) runs
# hvmon's real PCI enumeration, e1000 driver, lwIP (DHCP from slirp), event
# core and wire protocol on Bochs' emulated 82540EM; slirp carries the UDP
# datagrams to hvmon-collect on 127.0.0.1. Checks: DHCP lease, every event on
# the console arrives at the collector identical (minus transport members);
# a 10,000-event burst arrives complete (or its loss is reported); a ring
# overflowed on purpose is reported (drops event, header total, exit 80);
# junk UDP sent live to hvmon's NIC (random bytes/sizes, slirp-fragmented
# oversized datagrams) changes nothing but counters;
# no forgery/duplicate/replay; heartbeats seen.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD:-$top/build}
EVENTS=${NETTEST_EVENTS:-300}      # phase 1: also printed on the console
BURST=${NETTEST_BURST:-10000}      # phase 2: console off, checked by pattern
OVERFLOW=${NETTEST_OVERFLOW:-400}  # phase 3: produced without draining: 256 kept, the rest dropped
KEPT=$(( OVERFLOW < 256 ? OVERFLOW : 256 )); DROPPED=$(( OVERFLOW - KEPT ))
JUNK=${NETTEST_JUNK:-200}          # junk UDP datagrams sent live to hvmon's NIC (slirp hostfwd)
ELF=$B/net-selftest.elf
make -C "$top" -s net-selftest >/dev/null || { echo "collect_bochs_net: cannot build $ELF" >&2; exit 1; }
[ -x "$B/tools/hvmon-collect" ] || { echo "collect_bochs_net: build hvmon-collect first (make tools)" >&2; exit 1; }
T=$(mktemp -d /tmp/collect_bochs_net.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"; [ -n "${CPID:-}" ] && kill $CPID 2>/dev/null' EXIT
fails=0
check() { local d=$1; shift; if "$@"; then echo "ok   - $d"; else echo "FAIL - $d"; fails=$((fails + 1)); fi; }

"$B/tools/hvmon-collect" --genkey "$T/key" 2>/dev/null
while :; do P=$(( 20000 + RANDOM % 30000 )); ss -Hlun "sport = :$P" | grep -q . || break; done
while :; do F=$(( 20000 + RANDOM % 30000 )); [ $F != $P ] && ! ss -Hlun "sport = :$F" | grep -q . && break; done
# slirp: host 127.0.0.1:F → hvmon's UDP port (= the collector port) for the junk phase
printf '# slirp config\nhostfwd = udp::%s-:%s\n' $F $P > "$T/slirp.conf"
: > "$T/dummy"
"$top/tests/bochs/mkiso.sh" -o "$T/net.iso" --kernel "$T/dummy" --initrd "$T/dummy" --hvmon "$ELF" \
  --hv-opts "collector=10.0.2.2:$P key=$(cat "$T/key") ip=dhcp events=$EVENTS burst=$BURST overflow=$OVERFLOW junk_ms=3000" >/dev/null \
  || { echo "collect_bochs_net: mkiso failed" >&2; exit 1; }
"$B/tools/hvmon-collect" --listen 127.0.0.1:$P --key "$T/key" --out "$T/out" --timeout 600 2>"$T/err" &
CPID=$!
G=$top/build/runs/net-selftest/guest.log
rm -f "$G"
( # junk sender: waits for the kernel's junk window, then sends random datagrams
  for _ in $(seq 600); do sleep 0.5; grep -aq 'NETTEST: junk window open' "$G" 2>/dev/null && break; done
  for i in $(seq $JUNK); do head -c $(( (i * 7919) % 1472 )) /dev/urandom > /dev/udp/127.0.0.1/$F; done
  for i in 1 2 3 4 5; do head -c 3000 /dev/urandom > /dev/udp/127.0.0.1/$F; done   # slirp fragments these
) 2>/dev/null &
JPID=$!
"$top/tests/bochs/run.sh" --name net-selftest --iso "$T/net.iso" --timeout 400 \
  --extra 'pci: enabled=1, chipset=i440fx' \
  --extra "e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=slirp, script=$T/slirp.conf" \
  --fail-on 'guest:NETTEST: (setup failed|no address|unexpected)'
rc=$?
kill $JPID 2>/dev/null; wait $JPID 2>/dev/null
sleep 1
kill -TERM $CPID 2>/dev/null; wait $CPID; crc=$?; CPID=
tr -d '\r\000' < "$G" > "$T/guest"
grep NETTEST "$T/guest"
sed -n 's/.*summary: /collector: /p' "$T/err"
check "Bochs run ended by the kernel (run.sh rc=$rc)" test $rc = 0
check "e1000 found and initialised" grep -q 'NETTEST: e1000 up' "$T/guest"
check "DHCP lease from slirp: 10.0.2.15" grep -q 'NETTEST: address 10.0.2.15 after' "$T/guest"
check "$((EVENTS + BURST + KEPT)) events committed, $DROPPED dropped (overflow phase), no UDP/TX failure" \
  grep -q "NETTEST: done events=$((EVENTS + BURST + KEPT)) dropped=$DROPPED udp_sent=[1-9][0-9]* udp_fail=0 tx_fail=0" "$T/guest"
grep '^{"event":' "$T/guest" > "$T/console"
check "junk phase: frames received and counted, address unchanged" \
  grep -Eq 'NETTEST: junk window closed rx_frames\+=[1-9][0-9]* rx_bad\+=0 address 10\.0\.2\.15' "$T/guest"
check "console printed $EVENTS JSON events" test "$(wc -l < "$T/console")" = "$EVENTS"
lost=$(sed -n 's/.*summary: .* lost \([0-9]*\) .*/\1/p' "$T/err")
want=$(( DROPPED > 0 ? 80 : 0 ))   # 64 + 16: the sender reported ring drops
check "collector: no duplicate/forgery/replay, drops flagged iff dropped, loss only if reported (exit $crc, lost $lost datagrams)" \
  bash -c "[ $crc = $want ] || { [ $crc = $((want ? 81 : 65)) ] && [ '$lost' -gt 0 ]; }"
if [ "$DROPPED" -gt 0 ]; then
  check "collector: one drops event with count $DROPPED" \
    grep -q "\"event\":\"drops\",.*\"ring_cpu\":0,\"count\":$DROPPED,\"total\":$DROPPED}" "$T/out"
  check "collector: datagram headers carried the sender's drop total" grep -q "reports $DROPPED events dropped" "$T/err"
fi
check "collector: heartbeats received" grep -q '"event":"heartbeat"' "$T/out"
check "collector: phase-1 events equal the console's (in order); burst complete or loss reported" \
  python3 - "$T/out" "$T/console" $EVENTS $BURST "$lost" $KEPT <<'PY'
import json, sys
out, con, n1, nb, lost, kept = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5] or 0), int(sys.argv[6])
got = [json.loads(l) for l in open(out) if '"event":"heartbeat"' not in l and '"event":"drops"' not in l]
for g in got:
    assert g.pop("sender").startswith("127.0.0.1:"), g   # slirp NATs 10.0.2.15 to the host loopback
    for k in ("sender_id", "boot", "seq", "rec"):
        del g[k]
want = [json.loads(l) for l in open(con)]
phase1 = [g for g in got if g["pid"] < 1000 + n1]
burst = [g for g in got if 1000 + n1 <= g["pid"] < 1000 + n1 + nb]
over = sorted(g["pid"] for g in got if g["pid"] >= 1000 + n1 + nb)
ok_over = over == list(range(1000 + n1 + nb, 1000 + n1 + nb + kept))   # the first 256 kept, in order
ok = phase1 == want
pids = [g["pid"] for g in burst]
kinds = {0: "exec", 1: "fork", 2: "exit"}
ok &= len(set(pids)) == len(pids)                                  # no event twice
ok &= all(1000 + n1 <= p < 1000 + n1 + nb for p in pids)           # nothing invented
ok &= all(g["event"] == kinds[(g["pid"] - 1000) % 3] and g["comm"] == "wl-%04d" % ((g["pid"] - 1000) % 10000)
          for g in burst)
missing = nb - len(pids)
ok &= (missing == 0 and lost == 0) or (missing > 0 and lost > 0)    # loss never silent
ok &= ok_over or lost > 0
print("#   phase 1: collector %d / console %d; burst: %d of %d received, %d missing, collector lost %d datagrams; overflow: %d kept events received"
      % (len(phase1), len(want), len(pids), nb, missing, lost, len(over)))
sys.exit(0 if ok else 1)
PY
echo "collect_bochs_net: $fails failure(s)"
[ $fails = 0 ]

#!/usr/bin/env bash
# Network channel end to end in Bochs, without the hvmon core: the bare-metal
# self-test kernel (drivers/net/selftest, built as build/net-selftest.elf) runs
# hvmon's real PCI enumeration, e1000 driver, lwIP (DHCP from slirp), event
# core and wire protocol on Bochs' emulated 82540EM; slirp carries the UDP
# datagrams to hvmon-collect on 127.0.0.1. Checks: DHCP lease, every event on
# the console arrives at the collector identical (minus transport members),
# no loss, no forgery, heartbeats seen, collector exit 0.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD:-$top/build}
EVENTS=${NETTEST_EVENTS:-3000}
ELF=$B/net-selftest.elf
[ -f "$ELF" ] || make -C "$top" -s "$ELF" >/dev/null || { echo "collect_bochs_net: cannot build $ELF" >&2; exit 1; }
[ -x "$B/tools/hvmon-collect" ] || { echo "collect_bochs_net: build hvmon-collect first (make tools)" >&2; exit 1; }
T=$(mktemp -d /tmp/collect_bochs_net.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"; [ -n "${CPID:-}" ] && kill $CPID 2>/dev/null' EXIT
fails=0
check() { local d=$1; shift; if "$@"; then echo "ok   - $d"; else echo "FAIL - $d"; fails=$((fails + 1)); fi; }

"$B/tools/hvmon-collect" --genkey "$T/key" 2>/dev/null
while :; do P=$(( 20000 + RANDOM % 30000 )); ss -Hlun "sport = :$P" | grep -q . || break; done
: > "$T/dummy"
"$top/tests/bochs/mkiso.sh" -o "$T/net.iso" --kernel "$T/dummy" --initrd "$T/dummy" --hvmon "$ELF" \
  --hv-opts "collector=10.0.2.2:$P key=$(cat "$T/key") ip=dhcp events=$EVENTS" >/dev/null \
  || { echo "collect_bochs_net: mkiso failed" >&2; exit 1; }
"$B/tools/hvmon-collect" --listen 127.0.0.1:$P --key "$T/key" --out "$T/out" --timeout 600 2>"$T/err" &
CPID=$!
"$top/tests/bochs/run.sh" --name net-selftest --iso "$T/net.iso" --timeout 400 \
  --extra 'pci: enabled=1, chipset=i440fx' \
  --extra 'e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=slirp' \
  --fail-on 'guest:NETTEST: (setup failed|no address|unexpected)'
rc=$?
sleep 1
kill -TERM $CPID 2>/dev/null; wait $CPID; crc=$?; CPID=
G=$top/build/runs/net-selftest/guest.log
tr -d '\r\000' < "$G" > "$T/guest"
grep NETTEST "$T/guest"
sed -n 's/.*summary: /collector: /p' "$T/err"
check "Bochs run ended by the kernel (run.sh rc=$rc)" test $rc = 0
check "e1000 found and initialised" grep -q 'NETTEST: e1000 up' "$T/guest"
check "DHCP lease from slirp: 10.0.2.15" grep -q 'NETTEST: address 10.0.2.15 after' "$T/guest"
check "all $EVENTS events committed, none dropped, no UDP/TX failure" \
  grep -q "NETTEST: done events=$EVENTS dropped=0 udp_sent=[1-9][0-9]* udp_fail=0 tx_fail=0" "$T/guest"
grep '^{"event":' "$T/guest" > "$T/console"
check "console printed $EVENTS JSON events" test "$(wc -l < "$T/console")" = "$EVENTS"
check "collector: exit 0 (no loss, duplicate, forgery, replay, drops; got $crc)" test $crc = 0
check "collector: heartbeats received" grep -q '"event":"heartbeat"' "$T/out"
check "collector: events equal the console's, in order" python3 - "$T/out" "$T/console" <<'PY'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1]) if '"event":"heartbeat"' not in l]
want = [json.loads(l) for l in open(sys.argv[2])]
for g in got:
    assert g.pop("sender").startswith("127.0.0.1:"), g   # slirp NATs 10.0.2.15 to the host loopback
    for k in ("sender_id", "boot", "seq", "rec"):
        del g[k]
print("#   collector %d events, console %d" % (len(got), len(want)))
sys.exit(0 if got == want else 1)
PY
echo "collect_bochs_net: $fails failure(s)"
[ $fails = 0 ]

#!/usr/bin/env bash
# docs/NETWORK.md, integration: hvmon's management NIC under VMX. hvmon (ring -1) brings up the first
# e1000 + lwIP (DHCP from slirp) + the wire sender while the generic 6.1 guest runs, hides the
# NIC from the guest, and ships every event to hvmon-collect on 127.0.0.1.
# Bochs: two 82540EM cards on two slirp instances (hvmon takes the first, the guest the other).
# Checks:
#  - bring-up: hvmon logs the NIC, its BAR carve-out and the hiding; DHCP address 10.0.2.15
#  - the collector receives every event the console printed ({"event": lines): equal multisets
#    (transport members removed); a burst of NET_BURST (default 10000) synthetic network-only
#    events (net_burst=) arrives complete and unduplicated, or the collector reports loss;
#    no forgery/duplicate/replay (collector exit status); heartbeats seen
#  - issue 16: the guest's vector registers survive hvmon's vector seal — tests/guest/vecstate/hvvec
#    checks a YMM0-15 + MXCSR pattern while the scenario runs; hvmon sealed every datagram with
#    AES-NI + PCLMULQDQ (wire version 2, the default on a CPU that has them; version 1's SSE2
#    ChaCha20 in ring -1 is pkg_deb.sh's boot, wire_aead=chacha20-poly1305)
#  - the guest (scenario tests/guest/scenarios/net.sh) sees exactly one 82540EM (its own), not
#    hvmon's: /sys/bus/pci/devices and lspci; hvmon counted hidden configuration reads; the
#    guest's own e1000 is bound by its driver (and gets a DHCP lease: reported)
#  - junk UDP datagrams sent live to hvmon's NIC (slirp hostfwd) change nothing but counters:
#    address unchanged, no ring -1 crash, events after the junk still arrive
# Forged/replayed datagrams: host side, tests/unit/test_wire.c + tests/integration/collect_e2e.sh.
# Usage: tests/integration/net_vmx.sh      (NET_BURST=N, NET_JUNK=N, KEEP=1 keep the temp dir)
set -uo pipefail
: "${HV_TIMEOUT:=1500}"
. "$(dirname "$0")/../bochs/lib.sh"
top=$HV_TOP
B=$top/build
BURST=${NET_BURST:-10000}
JUNK=${NET_JUNK:-200}
name=net-vmx
make -C "$top" -s build/hvmon.elf build/tools/hvmon-collect build/tests/guest/hvvec >/dev/null || hv_fail "build failed"
JPID=
hv_start_collector --timeout "$HV_TIMEOUT" --silence 100000
trap 'hv_collector_cleanup; [ -n "$JPID" ] && kill $JPID 2>/dev/null' EXIT
T=$HV_COL_DIR; P=$HV_COL_PORT; F0=$(hv_freeport); F1=$(hv_freeport)
# each card its own slirp (same default 10.0.2.0/24 net); junk enters through hostfwd
printf '# slirp config\nhostfwd = udp::%s-:%s\n' $F0 $P > "$T/slirp0.conf"
printf '# slirp config\nhostfwd = udp::%s-:%s\n' $F1 $P > "$T/slirp1.conf"
G=$top/build/runs/$name/guest.log
rm -f "$G" "$top/build/runs/$name/hvmon.log"
( # junk sender: once the guest scenario runs, random datagrams to both cards' hostfwd
  for _ in $(seq 3000); do sleep 0.5; tr -d '\000' < "$G" 2>/dev/null | grep -aq 'scenario net start' && break; done
  for i in $(seq $JUNK); do
    head -c $(( (i * 7919) % 1472 )) /dev/urandom > /dev/udp/127.0.0.1/$F0
    head -c $(( (i * 7919) % 1472 )) /dev/urandom > /dev/udp/127.0.0.1/$F1
  done
  for i in 1 2 3; do head -c 3000 /dev/urandom > /dev/udp/127.0.0.1/$F0; head -c 3000 /dev/urandom > /dev/udp/127.0.0.1/$F1; done
  echo "junk sent $(date +%s)" > "$T/junk.done"
) 2>/dev/null &
JPID=$!
t0=$(date +%s)
hv_boot "$name" --flavour generic --kmods e1000 --modules "$B/tests/guest/hvvec" --scenario net \
  --hv-opts "console=com2 log=info console_events=all $HV_COL_OPTS net_burst=$BURST" \
  --extra 'pci: enabled=1, chipset=i440fx' \
  --extra "e1000: card=0, enabled=1, mac=52:54:00:12:34:56, ethmod=slirp, script=$T/slirp0.conf" \
  --extra "e1000: card=1, enabled=1, mac=52:54:00:12:34:57, ethmod=slirp, script=$T/slirp1.conf"
t1=$(date +%s)
wait $JPID 2>/dev/null; JPID=
sleep 2
hv_stop_collector; crc=$HV_COL_RC
H=$RUN_DIR/hvmon.log
tr -d '\000\r' < "$H" > "$T/hvmon"; tr -d '\000\r' < "$G" > "$T/guest"
grep -a '^{"event":' "$T/hvmon" > "$T/console"
grep -a 'net:' "$T/hvmon" | grep -v '^{' | head -20
grep -a 'HVMON-GUEST: \(pci\|lspci\|netif\|eth0\|net \|vecstate\)' "$T/guest"
grep -a 'net: seal paths\|net: wire version' "$T/hvmon"
sed -n 's/.*summary: /collector: /p' "$T/err"
echo "# wall: $((t1 - t0)) s; console events $(wc -l < "$T/console"); collector lines $(wc -l < "$T/out"); collector exit $crc"
fails=0
check() { local d=$1; shift; if "$@"; then echo "ok   - $d"; else echo "FAIL - $d"; fails=$((fails + 1)); fi; }
check "run ended by the guest's power-off (status $RUN_STATUS)" test "$RUN_STATUS" = exit
check "guest userspace reached under VMX" grep -aq 'HVMON-GUEST: userspace reached' "$T/guest"
check "hvmon brought up its e1000" grep -aqE 'net: e1000 [0-9a-f]{2}:[0-9a-f]{2}\.[0-7] BAR0 0x[0-9a-f]+ up' "$T/hvmon"
check "hidden NIC BAR not mapped in EPT" grep -aq 'net: hidden NIC BAR .* not mapped in EPT' "$T/hvmon"
check "NIC hidden from the guest's configuration space" grep -aq 'net: PCI .* hidden from the guest' "$T/hvmon"
check "DHCP address from slirp, unchanged after the junk" grep -aq 'hvmon: net: address 10.0.2.15;' "$T/hvmon"
check "guest kernel probed the hidden function and read all-ones" \
  grep -aqE 'hvmon: net: hidden config reads [1-9]' "$T/hvmon"
check "guest sees exactly one 82540EM (its own)" grep -aq 'HVMON-GUEST: pci-e1000-count 1$' "$T/guest"
bdf=$(sed -n 's/.*net: e1000 \([0-9a-f:.]*\) BAR0.*/\1/p' "$T/hvmon" | head -1)
# /proc/bus/pci/devices names a function BBDF: bus, dev<<3|fn (hex)
pbdf=$( [ -n "$bdf" ] && printf '%02x%02x' $((16#${bdf%%:*})) $(( (16#$(echo $bdf | cut -d: -f2 | cut -d. -f1) << 3) | ${bdf##*.} )) )
check "hvmon's function 0000:$bdf ($pbdf) absent from the guest's /sys/bus/pci/devices, /proc/bus/pci, lspci" \
  bash -c "[ -n '$bdf' ] && ! grep -aE 'HVMON-GUEST: (pci 0000:$bdf|lspci 0*$bdf|procpci $pbdf )' '$T/guest'"
check "guest's /proc/bus/pci lists exactly one 82540EM" grep -aq 'HVMON-GUEST: procpci-e1000-count 1$' "$T/guest"
# the kernel's console lines can land inside a scenario line (e1000's "Link is Up" did, in the
# middle of the netif line): look at the guest log with the kernel's "[ t.tttttt] ..." lines cut out
perl -0pe 's/\[ *[0-9]+\.[0-9]+\] [^\n]*\n//g' "$T/guest" > "$T/guest.user"
check "guest's own e1000 bound by its driver" grep -aqE 'HVMON-GUEST: netif eth[0-9] driver e1000 mac 52:54:' "$T/guest.user"
check "guest scenario passed" grep -aq 'HVMON-GUEST: scenario net exit=0' "$T/guest"
check "junk sent while the guest ran" test -f "$T/junk.done"
check "junk frames received by hvmon's NIC and counted" \
  bash -c "rx=\$(sed -n 's/.*; rx \([0-9]*\) frames.*/\1/p' '$T/hvmon'); [ \"\${rx:-0}\" -ge $JUNK ]"
check "no crash in ring -1, no EPT violation report (guest touching hidden/hvmon pages)" \
  bash -c "! grep -aqE 'PANIC|EXCEPTION in ring -1|EPT violation: GPA' '$T/hvmon'"
check "guest vector registers + MXCSR intact across the run (hvvec: rounds, interruptions, 0 bad)" \
  grep -aqE 'HVMON-GUEST: vecstate (ymm|xmm) rounds [1-9][0-9]* gaps [1-9][0-9]* bad 0$' "$T/guest"
check "hvvec exited 0" grep -aq 'HVMON-GUEST: vecstate exit=0' "$T/guest"
check "wire version 2 (AES-256-GCM) by default: Bochs's CPU model has AES-NI + PCLMULQDQ (issue 16)" \
  grep -aq 'hvmon: net: wire version 2, AES-256-GCM (wire_aead=auto; CPUID has AES-NI + PCLMULQDQ)' "$T/hvmon"
check "every datagram sealed with AES-NI + PCLMULQDQ inside the vector guard (none portable, no ChaCha20)" \
  bash -c "grep -aqE 'hvmon: net: seal paths: [1-9][0-9]* datagrams with AES-NI .*, 0 portable' '$T/hvmon' &&
           grep -aqE 'hvmon: net: seal paths: 0 datagrams with SSE2 .*, 0 portable' '$T/hvmon'"
check "collector: heartbeats received" grep -q '"event":"heartbeat"' "$T/out"
check "collector: boot_config (issue 18) is seq 1 of the boot" grep -qE '^\{"event":"boot_config",.*"seq":1,"rec":0,' "$T/out"
lost=$(sed -n 's/.*summary: .* lost \([0-9]*\) .*/\1/p' "$T/err")
check "collector: no forgery/duplicate/replay/reorder (exit $crc: 0, or 65 with loss reported)" \
  bash -c "[ $crc = 0 ] || { [ $crc = 65 ] && [ '${lost:-0}' -gt 0 ]; }"
check "collector events == console events (multiset); burst $BURST complete or loss reported" \
  python3 - "$T/out" "$T/console" $BURST "${lost:-0}" <<'PY'
import json, sys, collections
out, con, nb, lost = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def norm(d):
    for k in ("sender", "sender_id", "boot", "seq", "rec"):
        d.pop(k, None)
    return json.dumps(d, sort_keys=True)
got = [json.loads(l) for l in open(out)]
isburst = lambda g: g["event"] == "monitor_state" and g.get("reason", "").startswith("net_burst ")
burst = [g for g in got if isburst(g)]                   # network only (net_burst=, docs/NETWORK.md)
got = [g for g in got if g["event"] not in ("heartbeat", "boot_config") and not isburst(g)]   # network only
want = [json.loads(l) for l in open(con)]
G = collections.Counter(norm(dict(g)) for g in got)
W = collections.Counter(norm(dict(w)) for w in want)
extra = G - W
missing = W - G
idx = sorted(int(g["reason"].split()[1].split("/")[0]) for g in burst)
print("#   console %d, collector %d (heartbeats excluded); missing %d, extra %d; burst %d/%d unique %d; collector lost %d datagrams"
      % (len(want), len(got), sum(missing.values()), sum(extra.values()), len(idx), nb, len(set(idx)), lost))
kinds = collections.Counter(w["event"] for w in want)
print("#   console event kinds:", dict(kinds))
ok = not extra                                            # nothing invented
ok &= len(idx) == len(set(idx)) and all(1 <= i <= nb for i in idx)
ok &= (not missing and len(idx) == nb) or lost > 0        # loss never silent
ok &= len(want) > 0                                       # the console printed events at all
if not any(w["event"] in ("exec", "fork", "exit") for w in want):
    print("#   note: no process-tracer events on the console in this run")
sys.exit(0 if ok else 1)
PY
echo "net_vmx: $fails failure(s)"
[ -n "${KEEP:-}" ] && echo "kept $T"
[ $fails = 0 ] && hv_pass "events ring -1 -> 127.0.0.1 under VMX, NIC hidden from the guest" || hv_fail "$fails check(s) failed"

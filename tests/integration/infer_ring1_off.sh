#!/usr/bin/env bash
# docs/INFER-RING1.md, failure path: with infer=off hvmon runs no inference, says so (log line +
# `inference` event with ok=false and the reason), monitors that need the profile say they
# stay off (monitor_state events, when a monitor is built in), and the guest is NOT stopped:
# it reaches userspace and powers off cleanly.
set -euo pipefail
. "$(dirname "$0")/../bochs/lib.sh"
for _ in $(seq 1 120); do [ "$(pgrep -c bochs-bin || true)" -lt 2 ] && break; sleep 5; done
hv_boot infer-ring1-off --flavour cloud --scenario boot --hv-opts "console=com2 log=info infer=off"
assert_status exit marker
assert_marker hvmon 'hvmon: WARN: inference: not run: disabled by infer=off' "inference skipped and said so"
assert_no_marker hvmon 'inference: first IA32_LSTAR write' "no inference with infer=off"
ev=$(json_events hvmon inference | sed -n 1p)
[ -n "$ev" ] || hv_fail "no inference event"
echo "$ev" | grep -q '"ok":false' || hv_fail "inference event not ok=false: $ev"
echo "$ev" | grep -q 'disabled by infer=off' || hv_fail "inference event without the reason: $ev"
ms=$(json_events hvmon monitor_state)
if [ -n "$ms" ]; then
  echo "$ms"
  if echo "$ms" | grep -q '"state":"on"'; then hv_fail "a monitor claims to be on without inference"; fi
fi
assert_marker guest 'HVMON-GUEST: userspace reached' "guest userspace without inference"
assert_marker hvmon 'hvmon: guest powered off' "clean power-off"
assert_no_marker hvmon 'guest crashed|PANIC|EXCEPTION in ring -1' "no crash"
hv_pass "infer=off: no inference, reported (event ok=false), $(echo "$ms" | grep -c monitor_state || true) monitor_state event(s) off, guest booted and powered off"

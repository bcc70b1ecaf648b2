#!/usr/bin/env bash
# Issue 16: ring -1 runs vector code in exactly one place, BearSSL's SSE2 ChaCha20
# (events/wire_seal_sse2.c), and only inside the vector guard that saves and restores the
# interrupted context's registers (arch/x86/fpu.h). Every other function of hvmon.elf — hvmon's
# objects and the linked archives (newlib, lwIP, Zydis, mbedTLS) — must name no MMX/XMM/YMM/ZMM or
# opmask register and use no x87 arithmetic: the guest's values live there during an exit.
# Usage: tools/check-ring1-simd.sh build/hvmon.elf [ALLOWED_FUNCTION...]
#   (default allowed: br_chacha20_sse2_run). Prints the functions that use vector registers;
#   exits 1 if any is not allowed.
set -euo pipefail
elf=${1:?usage: $0 hvmon.elf [function...]}
shift
allowed=${*:-br_chacha20_sse2_run}
objdump -d --no-show-raw-insn "$elf" | awk -v allowed="$allowed" '
BEGIN { n = split(allowed, a, " "); for (i = 1; i <= n; i++) ok[a[i]] = 1; bad = 0 }
/^[0-9a-f]+ <.*>:$/ { fn = $2; gsub(/[<>:]/, "", fn); next }
/%(x|y|z)mm[0-9]|%mm[0-7]|%k[0-7]\>|\<f(add|sub|mul|div|ld|st|ild|ist)[a-z]* / {
  uses[fn]++
}
END {
  for (f in uses) {
    printf "%s: %d instruction(s) with vector/x87 registers%s\n", f, uses[f], (f in ok) ? " (allowed: inside the vector guard)" : " NOT ALLOWED"
    if (!(f in ok)) bad++
  }
  if (!length(uses)) print "no function uses vector registers"
  exit bad ? 1 : 0
}'

#!/usr/bin/env bash
# Issue 16: ring -1 runs vector code in exactly two objects, BearSSL's SSE2 ChaCha20
# (events/wire_seal_sse2.c) and its AES-NI AES + PCLMULQDQ GHASH (events/wire_seal_aesni.c),
# and only inside the vector guard that saves and restores the interrupted context's registers
# (arch/x86/fpu.h). Every other function of hvmon.elf — hvmon's objects and the linked archives
# (newlib, lwIP, Zydis, mbedTLS) — must name no MMX/XMM/YMM/ZMM or opmask register and use no
# x87 arithmetic: the guest's values live there during an exit.
# Usage: tools/check-ring1-simd.sh build/hvmon.elf [OBJECT.o | FUNCTION]...
#   An OBJECT.o allows every function that object defines (nm); a name allows that function.
#   Default allowed: br_chacha20_sse2_run. Prints the functions that use vector registers;
#   exits 1 if any is not allowed.
set -euo pipefail
elf=${1:?usage: $0 hvmon.elf [object.o|function]...}
shift
allowed=
for a in "$@"; do
  case $a in
    *.o) allowed+=" $(nm --defined-only "$a" | awk '$2 ~ /^[tT]$/ { printf "%s ", $3 }')" ;;
    *) allowed+=" $a" ;;
  esac
done
[ -n "${allowed// /}" ] || allowed=br_chacha20_sse2_run
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

#!/usr/bin/env bash
# tools/hvinfer-r1sim.sh [OUT] — build an hvinfer whose infer/ and Zydis objects are
# compiled with ring -1's code-generation flags (HV_CFLAGS minus -mcmodel=kernel, which
# a user-space binary cannot link), so that callgrind counts the instructions ring -1
# executes for the same inference (docs/BENCHMARKS.md, "Inference / Ring -1"). The
# reader (tools/kimage.c, glibc memcpy) is host code: subtract `elf_read`'s inclusive cost.
# Bochs's TSC follows its instruction count: on the 6.1 cloud kernel this binary's
# engine count (420.0 M) matched the Bochs run's engine ticks (486.3 M - 66.8 M reader).
#   tools/hvinfer-r1sim.sh && valgrind --tool=callgrind --collect-atstart=no \
#     --toggle-collect=infer_run build/r1sim/hvinfer --json --strategy all --lstar VA IMAGE
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/r1sim}
cd "$top"
tp=$(readlink -f third_party)/src
[ -d "$tp/zydis/src" ] || { echo "hvinfer-r1sim: third_party/src/zydis missing (make deps)" >&2; exit 1; }
mkdir -p "$out/obj"
hvf=(-std=gnu11 -O2 -g -w -ffreestanding -fno-stack-protector -fno-pic -fno-pie -fno-builtin
     -mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables -fno-omit-frame-pointer)
zd=(-DZYAN_NO_LIBC -DZYDIS_STATIC_BUILD -DZYCORE_STATIC_BUILD -DZYDIS_DISABLE_ENCODER
    -DZYDIS_DISABLE_FORMATTER -include "$top/lib/zydis_libc.h")
zi=(-I"$tp/zydis/include" -I"$tp/zydis/src" -I"$tp/zycore-c/include")
for f in Decoder DecoderData MetaInfo Mnemonic Register SharedData Segment Utils Zydis; do
  gcc "${hvf[@]}" "${zd[@]}" "${zi[@]}" -c "$tp/zydis/src/$f.c" -o "$out/obj/z_$f.o"
done
for f in infer/*.c; do
  gcc "${hvf[@]}" -DHV_RING1 -DINFER_HAVE_PATTERNS=1 "${zd[@]}" "${zi[@]}" -I. -Iinclude \
    -c "$f" -o "$out/obj/i_$(basename "$f" .c).o"
done
gcc -std=gnu11 -O2 -g -w -I. -Iinclude -fno-pie -no-pie tools/hvinfer.c tools/kimage.c \
  "$out"/obj/*.o -o "$out/hvinfer" -lz -llzma -llz4 -lzstd -lbz2 -llzo2
echo "$out/hvinfer"

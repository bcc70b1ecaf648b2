#!/usr/bin/env bash
# Build Zydis' decoder (Debian source package `zydis`, Zycore headers from
# libzycore-dev) with ZYAN_NO_LIBC twice:
#   third_party/build/zydis-host/libzydis.a  host tools / unit tests
#   third_party/build/zydis-hv/libzydis.a    ring -1 (HV_CFLAGS-compatible)
# The formatter needs Zycore's String.c (source not available in Debian), so
# only the decoder (+ Segment, MetaInfo, Mnemonic, Register, Utils) is built.
# Static build: ZYDIS_STATIC_BUILD/ZYCORE_STATIC_BUILD replace the CMake-made
# export headers.
# Idempotent and safe to run concurrently (several make/deps.sh runs share the
# tree): rebuilds only when the stamp (flags + sources) differs, under a lock, in a
# temporary directory published atomically (tools/build-lib.sh, versioned archives).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/third_party/src/zydis"
zyc="$top/third_party/src/zycore-c/include"
out="$top/third_party/build"
CC=${CC:-gcc}
. "$top/tools/build-lib.sh"
[ -d "$src/src" ] || { echo "build-zydis: $src missing (run tools/deps.sh)" >&2; exit 1; }
[ -d "$zyc/Zycore" ] || { echo "build-zydis: $zyc missing (run tools/deps.sh)" >&2; exit 1; }

FILES=(Decoder DecoderData MetaInfo Mnemonic Register SharedData Segment Utils Zydis)
# lib/zydis_libc.h: a word-at-a-time ZYAN_MEMSET (Zycore's no-libc one is a byte loop)
shim="$top/lib/zydis_libc.h"
DEFS=(-DZYAN_NO_LIBC -DZYDIS_STATIC_BUILD -DZYCORE_STATIC_BUILD
      -DZYDIS_DISABLE_ENCODER -DZYDIS_DISABLE_FORMATTER -include "$shim")
INCS=(-I"$src/include" -I"$src/src" -I"$zyc")
COMMON=(-std=gnu11 -O2 -g -w -fno-builtin)
HOST_FLAGS=("${COMMON[@]}")
HV_FLAGS=("${COMMON[@]}" "${RING1_FLAGS[@]}")

build() { # name flags...
  local name=$1; shift
  local lib=libzydis.a
  # stamp: flags + sources (the package version, the files, the libc shim, Zycore's headers)
  local zsum; zsum=$(find "$zyc" -type f -name '*.h' | LC_ALL=C sort | xargs cat | md5sum | cut -c1-32)
  local srcs=() f
  for f in "${FILES[@]}"; do srcs+=("$src/src/$f.c"); done
  local want; want="${*//$top/.} ${DEFS[*]//$top/.} | $(lib_sum "$shim" "${srcs[@]}") | $zsum | ${FILES[*]} | $(head -1 "$src/debian/changelog")"
  lib_current "zydis-$name" "$lib" "$want" && return 0
  lib_reuse "zydis-$name" "$lib" "$want" && return 0
  echo "build-zydis: building $out/zydis-$name/$lib" >&2
  local tmp; tmp=$(lib_tmpdir "zydis-$name")
  for f in "${FILES[@]}"; do
    "$CC" "$@" "${DEFS[@]}" "${INCS[@]}" -c "$src/src/$f.c" -o "$tmp/$f.o"
  done
  ar rcs "$tmp/$lib" "$tmp"/*.o
  rm -f "$tmp"/*.o
  # Headers for users: one include dir with both Zydis and Zycore.
  mkdir -p "$tmp/include"
  cp -r "$src/include/Zydis" "$zyc/Zycore" "$tmp/include/"
  lib_publish "zydis-$name" "$tmp" "$want"
}

build_lock zydis
build host "${HOST_FLAGS[@]}"
build hv "${HV_FLAGS[@]}"

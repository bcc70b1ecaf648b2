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
# tree): rebuilds only when an archive is missing or older than a source or
# this script, under a lock, and replaces the archive atomically.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
self="$top/tools/build-zydis.sh"
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

stale() { # lib
  [ -f "$1" ] || return 0
  local f
  for f in "${FILES[@]}"; do [ "$src/src/$f.c" -nt "$1" ] && return 0; done
  [ "$self" -nt "$1" ] && return 0
  [ "$shim" -nt "$1" ] && return 0
  return 1
}

build() { # name flags...
  local name=$1; shift
  local dir="$out/zydis-$name" lib="$out/zydis-$name/libzydis.a"
  stale "$lib" || return 0
  echo "build-zydis: building $lib" >&2
  local tmp; tmp=$(mktemp -d "$out/.zydis-$name.XXXXXX")
  local f
  for f in "${FILES[@]}"; do
    "$CC" "$@" "${DEFS[@]}" "${INCS[@]}" -c "$src/src/$f.c" -o "$tmp/$f.o"
  done
  ar rcs "$tmp/libzydis.a" "$tmp"/*.o
  mkdir -p "$dir/include"
  # Headers for users: one include dir with both Zydis and Zycore.
  cp -r "$src/include/Zydis" "$zyc/Zycore" "$dir/include/"
  mv -f "$tmp/libzydis.a" "$lib"       # atomic: readers see the old or the new archive
  rm -rf "$tmp"
}

build_lock zydis
build host "${HOST_FLAGS[@]}"
build hv "${HV_FLAGS[@]}"

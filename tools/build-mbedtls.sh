#!/usr/bin/env bash
# Build the part of mbedTLS (Debian source package `mbedtls`, in
# third_party/src/mbedtls) that hvmon's wire protocol uses — ChaCha20,
# Poly1305, ChaCha20-Poly1305 + platform_util (zeroize) — twice, with hvmon's
# own config header events/wire_mbedtls_config.h:
#   third_party/build/mbedtls-host/{libmbedcrypto.a,include/}  collector, tests
#   third_party/build/mbedtls-hv/{libmbedcrypto.a,include/}    ring -1: HV_CFLAGS
#     ABI (-ffreestanding -mgeneral-regs-only -mcmodel=kernel -mno-red-zone),
#     newlib headers (third_party/build/newlib/include); needs only memcpy,
#     memset, memcmp at link time (newlib's libc.a provides them).
# Idempotent: returns at once when a stamp (flags + sources) matches; builds in a temporary
# directory and publishes it atomically (tools/build-lib.sh, versioned archives).
# Usage: tools/build-mbedtls.sh [--force]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/third_party/src/mbedtls"
out="$top/third_party/build"
cfg="$top/events/wire_mbedtls_config.h"
CC=${CC:-gcc}
log() { printf 'build-mbedtls: %s\n' "$*" >&2; }
. "$top/tools/build-lib.sh"
[ -f "$src/library/chachapoly.c" ] || { log "$src missing (run tools/deps.sh)"; exit 1; }

FILES=(chacha20 poly1305 chachapoly platform_util)
COMMON=(-std=gnu11 -O2 -g -Wall -DMBEDTLS_CONFIG_FILE='"wire_mbedtls_config.h"'
        -I"$top/events" -I"$src/include" -I"$src/library")
HOST_FLAGS=("${COMMON[@]}" -fPIC)
HV_FLAGS=("${COMMON[@]}" "${RING1_FLAGS[@]}")
if libc=$(ring1_libc_flags); then
  mapfile -t libc_flags <<< "$libc"; HV_FLAGS+=("${libc_flags[@]}")
else
  log "newlib headers not found (tools/build-newlib.sh not run yet?): ring -1 archive NOT built"
  NO_HV=1
fi
build_lock mbedtls

build() { # name flags...
  local name=$1; shift
  local lib=libmbedcrypto.a
  # stamp: flags + sources (the package version, the files, the config header)
  local srcs=() f
  for f in "${FILES[@]}"; do srcs+=("$src/library/$f.c"); done
  local want; want="${*//$top/.} | $(lib_sum "$cfg" "${srcs[@]}") | ${FILES[*]} | $(head -1 "$src/debian/changelog")"
  lib_current "mbedtls-$name" "$lib" "$want" && return 0
  lib_reuse "mbedtls-$name" "$lib" "$want" && return 0
  log "building $out/mbedtls-$name/$lib"
  local tmp; tmp=$(lib_tmpdir "mbedtls-$name")
  mkdir -p "$tmp/obj" "$tmp/include"
  for f in "${FILES[@]}"; do
    "$CC" "$@" -c "$src/library/$f.c" -o "$tmp/obj/$f.o"
  done
  ar rcs "$tmp/$lib" "$tmp"/obj/*.o
  cp -r "$src/include/mbedtls" "$tmp/include/"
  cp "$cfg" "$tmp/include/"
  if [ "$name" = hv ]; then
    # ring -1 contract: no symbol from outside the freestanding set
    local undef; undef=$(nm -u "$tmp/$lib" | awk '{print $2}' | sort -u | grep -v -E '^(memcpy|memset|memcmp|mbedtls_.*)$' || true)
    [ -z "$undef" ] || { log "unexpected undefined symbols in $lib: $undef"; rm -rf "$tmp"; exit 1; }
    no_sse "$tmp/$lib" || { rm -rf "$tmp"; exit 1; }
  fi
  lib_publish "mbedtls-$name" "$tmp" "$want"
}

[ "${1:-}" = --force ] && FORCE=1
build host "${HOST_FLAGS[@]}"
if [ "${NO_HV:-0}" = 1 ]; then exit 1; fi
build hv "${HV_FLAGS[@]}"

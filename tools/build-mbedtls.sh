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
# Idempotent: returns at once when a stamp (flags + sources) matches.
# Usage: tools/build-mbedtls.sh [--force]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/third_party/src/mbedtls"
out="$top/third_party/build"
cfg="$top/events/wire_mbedtls_config.h"
CC=${CC:-gcc}
log() { printf 'build-mbedtls: %s\n' "$*" >&2; }
[ -f "$src/library/chachapoly.c" ] || { log "$src missing (run tools/deps.sh)"; exit 1; }

FILES=(chacha20 poly1305 chachapoly platform_util)
COMMON=(-std=gnu11 -O2 -g -Wall -DMBEDTLS_CONFIG_FILE='"wire_mbedtls_config.h"'
        -I"$top/events" -I"$src/include" -I"$src/library")
HOST_FLAGS=("${COMMON[@]}" -fPIC)
HV_FLAGS=("${COMMON[@]}" -ffreestanding -fno-stack-protector -fno-pic -fno-pie -fno-builtin
          -mno-red-zone -mgeneral-regs-only -mcmodel=kernel
          -fno-asynchronous-unwind-tables -fno-omit-frame-pointer)

# Ring -1 libc headers: newlib as built by tools/build-newlib.sh. While that
# build is still running, its configured target headers + the source headers
# are equivalent; the stamp records which was used so the archive is rebuilt
# once the installed headers exist.
nl="$out/newlib/include"
if [ -f "$nl/string.h" ]; then
  HV_FLAGS+=(-nostdinc -isystem "$nl" -isystem "$($CC -print-file-name=include)")
else
  nlo="$out/newlib-obj/x86_64-elf/newlib/targ-include"
  if [ ! -f "$nlo/newlib.h" ]; then
    log "newlib headers not found (tools/build-newlib.sh not run yet?): ring -1 archive NOT built"
    NO_HV=1
  fi
  HV_FLAGS+=(-nostdinc -isystem "$nlo" -isystem "$top/third_party/src/newlib/newlib/libc/include"
             -isystem "$($CC -print-file-name=include)")
fi

# third_party/ is shared by git worktrees (symlinks): one build at a time, and
# a stamp that does not depend on the worktree's path (else each worktree
# rebuilds the others' archives, and concurrent rebuilds break them)
mkdir -p "$out"
exec 9> "$out/.mbedtls.lock"
flock 9

build() { # name flags...
  local name=$1; shift
  local dir="$out/mbedtls-$name" lib="$out/mbedtls-$name/libmbedcrypto.a"
  local want; want="${*//$top/.} | $(cat "$cfg" | md5sum) | $(cat "$0" | md5sum) | $(head -1 "$src/debian/changelog")"
  if [ "${FORCE:-0}" = 0 ] && [ -f "$lib" ] && [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ]; then
    return 0
  fi
  log "building $lib"
  rm -rf "$dir"; mkdir -p "$dir/obj" "$dir/include"
  for f in "${FILES[@]}"; do
    "$CC" "$@" -c "$src/library/$f.c" -o "$dir/obj/$f.o"
  done
  ar rcs "$lib.tmp" "$dir"/obj/*.o
  mv "$lib.tmp" "$lib"
  cp -r "$src/include/mbedtls" "$dir/include/"
  cp "$cfg" "$dir/include/"
  if [ "$name" = hv ]; then
    # ring -1 contract: no symbol from outside the freestanding set
    local undef; undef=$(nm -u "$lib" | awk '{print $2}' | sort -u | grep -v -E '^(memcpy|memset|memcmp|mbedtls_.*)$' || true)
    [ -z "$undef" ] || { log "unexpected undefined symbols in $lib: $undef"; rm -f "$lib"; exit 1; }
    # no SSE/x87 register use
    if objdump -d "$lib" | grep -Eq '%xmm|%ymm|%st\('; then
      log "$lib uses SSE/x87 registers"; rm -f "$lib"; exit 1
    fi
  fi
  echo "$want" > "$dir/.stamp"
}

[ "${1:-}" = --force ] && FORCE=1
build host "${HOST_FLAGS[@]}"
if [ "${NO_HV:-0}" = 1 ]; then exit 1; fi
build hv "${HV_FLAGS[@]}"

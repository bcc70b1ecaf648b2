#!/usr/bin/env bash
# Build lwIP (Debian source package `lwip`, third_party/src/lwip) for hvmon's
# management NIC with the port in drivers/net/ (lwipopts.h, arch/cc.h):
# NO_SYS=1 raw API, IPv4, ARP, ICMP, UDP, DHCP. Two archives:
#   third_party/build/lwip-host/liblwip.a   host tests (gcc, hosted)
#   third_party/build/lwip-hv/liblwip.a     ring -1: HV_CFLAGS ABI, newlib headers
# The port's own C file (drivers/net/sys_arch.c) is built by drivers/net.mk.
# Idempotent: returns at once when the stamp (flags + sources + options) matches; builds
# in a temporary directory and publishes it atomically (tools/build-lib.sh, versioned archives).
# Usage: tools/build-lwip.sh [--force]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/third_party/src/lwip/src"
out="$top/third_party/build"
CC=${CC:-gcc}
log() { printf 'build-lwip: %s\n' "$*" >&2; }
. "$top/tools/build-lib.sh"
[ -f "$src/core/init.c" ] || { log "$src missing (run tools/deps.sh)"; exit 1; }

FILES=(core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c
       core/netif.c core/pbuf.c core/stats.c core/sys.c core/timeouts.c core/udp.c
       core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c
       core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c netif/ethernet.c)
COMMON=(-std=gnu11 -O2 -g -w -I"$top" -I"$top/drivers/net" -I"$src/include")
HOST_FLAGS=("${COMMON[@]}")
HV_FLAGS=("${COMMON[@]}" "${RING1_FLAGS[@]}")
if libc=$(ring1_libc_flags); then
  mapfile -t libc_flags <<< "$libc"; HV_FLAGS+=("${libc_flags[@]}")
else
  log "newlib headers not found (tools/build-newlib.sh not run yet?): ring -1 archive NOT built"
  NO_HV=1
fi
build_lock lwip

build() { # name flags...
  local name=$1; shift
  local lib=liblwip.a
  # stamp: flags + sources (the package version, the files, the port's config headers)
  local want; want="${*//$top/.} | $(lib_sum "$top/drivers/net/lwipopts.h" "$top/drivers/net/arch/cc.h" "${FILES[@]/#/$src/}") | ${FILES[*]} | $(head -1 "$src/../debian/changelog")"
  lib_current "lwip-$name" "$lib" "$want" && return 0
  lib_reuse "lwip-$name" "$lib" "$want" && return 0
  log "building $out/lwip-$name/$lib"
  local tmp; tmp=$(lib_tmpdir "lwip-$name")
  mkdir -p "$tmp/obj"
  for f in "${FILES[@]}"; do
    "$CC" "$@" -c "$src/$f" -o "$tmp/obj/$(echo "$f" | tr / _ | sed 's/\.c$/.o/')"
  done
  ar rcs "$tmp/$lib" "$tmp"/obj/*.o
  if [ "$name" = hv ]; then
    no_sse "$tmp/$lib" || { rm -rf "$tmp"; exit 1; }
    nm -u "$tmp/$lib" | awk '{print $2}' | sort -u > "$tmp/undefined.txt"
  fi
  lib_publish "lwip-$name" "$tmp" "$want"
}

[ "${1:-}" = --force ] && FORCE=1
build host "${HOST_FLAGS[@]}"
if [ "${NO_HV:-0}" = 1 ]; then exit 1; fi
build hv "${HV_FLAGS[@]}"

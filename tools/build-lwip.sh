#!/usr/bin/env bash
# Build lwIP (Debian source package `lwip`, third_party/src/lwip) for hvmon's
# management NIC with the port in drivers/net/ (lwipopts.h, arch/cc.h):
# NO_SYS=1 raw API, IPv4, ARP, ICMP, UDP, DHCP. Two archives:
#   third_party/build/lwip-host/liblwip.a   host tests (gcc, hosted)
#   third_party/build/lwip-hv/liblwip.a     ring -1: HV_CFLAGS ABI, newlib headers
# The port's own C file (drivers/net/sys_arch.c) is built by drivers/net.mk.
# Idempotent: returns at once when the stamp (flags + sources + options) matches.
# Usage: tools/build-lwip.sh [--force]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/third_party/src/lwip/src"
out="$top/third_party/build"
CC=${CC:-gcc}
log() { printf 'build-lwip: %s\n' "$*" >&2; }
[ -f "$src/core/init.c" ] || { log "$src missing (run tools/deps.sh)"; exit 1; }

FILES=(core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c
       core/netif.c core/pbuf.c core/stats.c core/sys.c core/timeouts.c core/udp.c
       core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c
       core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c netif/ethernet.c)
COMMON=(-std=gnu11 -O2 -g -w -I"$top" -I"$top/drivers/net" -I"$src/include")
HOST_FLAGS=("${COMMON[@]}")
HV_FLAGS=("${COMMON[@]}" -ffreestanding -fno-stack-protector -fno-pic -fno-pie -fno-builtin
          -mno-red-zone -mgeneral-regs-only -mcmodel=kernel
          -fno-asynchronous-unwind-tables -fno-omit-frame-pointer)
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
exec 9> "$out/.lwip.lock"
flock 9

build() { # name flags...
  local name=$1; shift
  local dir="$out/lwip-$name" lib="$out/lwip-$name/liblwip.a"
  local want; want="${*//$top/.} | $(cat "$top/drivers/net/lwipopts.h" "$top/drivers/net/arch/cc.h" "$0" | md5sum) | $(head -1 "$src/../debian/changelog")"
  if [ "${FORCE:-0}" = 0 ] && [ -f "$lib" ] && [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ]; then
    return 0
  fi
  log "building $lib"
  rm -rf "$dir"; mkdir -p "$dir/obj"
  for f in "${FILES[@]}"; do
    "$CC" "$@" -c "$src/$f" -o "$dir/obj/$(echo "$f" | tr / _ | sed 's/\.c$/.o/')"
  done
  ar rcs "$lib.tmp" "$dir"/obj/*.o
  mv "$lib.tmp" "$lib"
  if [ "$name" = hv ]; then
    if objdump -d "$lib" | grep -Eq '%xmm|%ymm|%st\('; then
      log "$lib uses SSE/x87 registers"; rm -f "$lib"; exit 1
    fi
    nm -u "$lib" | awk '{print $2}' | sort -u > "$dir/undefined.txt"
  fi
  echo "$want" > "$dir/.stamp"
}

[ "${1:-}" = --force ] && FORCE=1
build host "${HOST_FLAGS[@]}"
if [ "${NO_HV:-0}" = 1 ]; then exit 1; fi
build hv "${HV_FLAGS[@]}"

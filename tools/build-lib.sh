# Sourced by tools/build-{lwip,mbedtls,zydis}.sh: what building a third-party
# archive twice (host + ring -1) has in common. Expects `top`, `out` and `CC`.
#
# RING1_FLAGS: the ring -1 ABI (vmm/ is built the same way: no SSE/x87, kernel
# code model, no red zone since interrupts and exits share the stack).
RING1_FLAGS=(-ffreestanding -fno-stack-protector -fno-pic -fno-pie -fno-builtin
             -mno-red-zone -mgeneral-regs-only -mcmodel=kernel
             -fno-asynchronous-unwind-tables -fno-omit-frame-pointer)

# ring1_libc_flags: newlib's headers as tools/build-newlib.sh installs them. While
# that build is still running, its configured target headers + the source headers
# are equivalent (the flags are part of each stamp, so the archive is rebuilt once
# the installed headers exist). Prints the flags one per line; returns 1 (and
# prints nothing) when neither exists yet.
ring1_libc_flags() {
  local gccinc; gccinc=$("$CC" -print-file-name=include)
  local nl="$out/newlib/include" nlo="$out/newlib-obj/x86_64-elf/newlib/targ-include"
  if [ -f "$nl/string.h" ]; then
    printf '%s\n' -nostdinc -isystem "$nl" -isystem "$gccinc"
  elif [ -f "$nlo/newlib.h" ]; then
    printf '%s\n' -nostdinc -isystem "$nlo" -isystem "$top/third_party/src/newlib/newlib/libc/include" \
      -isystem "$gccinc"
  else
    return 1
  fi
}

# build_lock NAME: third_party/ is shared by git worktrees (symlinks), so one
# build at a time (fd 9, held until the script exits).
build_lock() {
  mkdir -p "$out"
  exec 9> "$out/.$1.lock"
  flock 9
}

# stamp_current DIR LIB WANT: true when LIB exists and DIR/.stamp says it was
# built from WANT (a stamp that does not depend on the worktree's path, else
# each worktree would rebuild the others' archives).
stamp_current() {
  [ "${FORCE:-0}" = 0 ] && [ -f "$2" ] && [ -f "$1/.stamp" ] && [ "$(cat "$1/.stamp")" = "$3" ]
}

# no_sse LIB: ring -1 never saves the guest's SSE/x87 state, so a ring -1
# archive that touches those registers is removed and the build fails.
no_sse() {
  if objdump -d "$1" | grep -Eq '%xmm|%ymm|%st\('; then
    echo "$(basename "$0"): $1 uses SSE/x87 registers" >&2; rm -f "$1"; return 1
  fi
}

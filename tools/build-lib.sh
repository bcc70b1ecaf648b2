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

# ---- versioned archives, published atomically (lwip, mbedtls, zydis) ----
# third_party/build/ is shared by every worktree (symlinks). $out/NAME is a symlink to
# $out/.versions/NAME-<hash of its stamp>. A build goes into a temporary directory, which
# one rename makes that version, and one more rename of a fresh symlink over $out/NAME
# publishes it: a link in another worktree sees the old archive or the new one, never a
# missing or half-written one. The stamp is the compiler flags + the sources (the source
# package version, the files built, the config headers' contents), never the build script
# itself: worktrees on different versions of a script with the same inputs share one build
# instead of rebuilding it in turn. A version already built (another worktree's flags) is
# published again without a rebuild.

# lib_sum FILE...: checksum of the contents of FILEs (config headers, sources)
lib_sum() { cat "$@" | md5sum | cut -c1-32; }

# lib_current NAME FILE WANT: the published NAME holds FILE and was built from WANT
lib_current() {
  [ "${FORCE:-0}" = 0 ] && [ -f "$out/$1/$2" ] && [ -f "$out/$1/.stamp" ] &&
    [ "$(cat "$out/$1/.stamp")" = "$3" ]
}

# lib_version NAME WANT: prints .versions/NAME-<hash of WANT> (relative to $out)
lib_version() { printf '.versions/%s-%s' "$1" "$(printf '%s' "$2" | md5sum | cut -c1-16)"; }

# lib_reuse NAME FILE WANT: a version built from WANT exists (it holds FILE): publish it
lib_reuse() {
  local v; v=$(lib_version "$1" "$3")
  [ "${FORCE:-0}" = 0 ] && [ -f "$out/$v/$2" ] && [ -f "$out/$v/.stamp" ] &&
    [ "$(cat "$out/$v/.stamp")" = "$3" ] || return 1
  lib_link "$1" "$v"
}

# lib_tmpdir NAME: prints a new empty directory to build NAME in
lib_tmpdir() {
  local t; mkdir -p "$out/.versions"; t=$(mktemp -d "$out/.versions/.$1.XXXXXX") && chmod 755 "$t" && echo "$t"
}

# lib_publish NAME TMP WANT: TMP (complete) becomes the published NAME
lib_publish() {
  local name=$1 tmp=$2 want=$3 v
  v=$(lib_version "$name" "$want")
  [ ! -e "$out/$v" ] || v="$v.$$"         # FORCE: a rebuild of a version that exists
  echo "$want" > "$tmp/.stamp"
  mv -T "$tmp" "$out/$v"
  lib_link "$name" "$v"
  lib_gc "$name" "$v"
}

# lib_link NAME VERSION: point $out/NAME at VERSION with one rename
lib_link() {
  local l="$out/.$1.link.$$"
  ln -sfn "$2" "$l"
  # the layout before versions: a real directory (once per archive; an older script
  # in another worktree makes one again until that worktree is rebased)
  if [ -d "$out/$1" ] && [ ! -L "$out/$1" ]; then
    mv -T "$out/$1" "$out/.versions/$1-legacy.$$"
  fi
  mv -T "$l" "$out/$1"
}

# lib_gc NAME CURRENT: keep the 3 newest versions of NAME (and CURRENT), drop the rest
lib_gc() {
  local d n=0
  for d in $(ls -1td "$out/.versions/$1-"* 2>/dev/null); do
    [ "$d" = "$out/$2" ] && continue
    n=$((n + 1))
    [ $n -le 2 ] || rm -rf "$d"
  done
}

#!/usr/bin/env bash
# Build newlib's libc (Debian newlib-source, unpacked in third_party/src/newlib) for hvmon's ring -1:
# x86_64, freestanding, kernel code model, no red zone, general registers only (no SSE/x87).
# Result: third_party/build/newlib/{include,lib/libc.a}. Idempotent: a stamp file records the
# flags and the source version; when it matches, the script returns immediately.
# Usage: tools/build-newlib.sh [--force]   build (no-op when the stamp matches)
#        tools/build-newlib.sh --check     link test: snprintf/printf/malloc compiled with the ring -1
#                                          flags must link with only the syscall glue unresolved
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/third_party/src/newlib"
out="$top/third_party/build/newlib"
work="$top/third_party/build/newlib-obj"
stamp="$out/.stamp"

log() { printf 'build-newlib: %s\n' "$*" >&2; }

# Must match the ring -1 ABI in the top Makefile (HV_CFLAGS). -fno-builtin is not used here:
# newlib's own string functions are allowed to be optimised by the compiler.
NEWLIB_CFLAGS="-ffreestanding -mno-red-zone -mgeneral-regs-only -mcmodel=kernel -fno-pic -fno-pie \
-fno-stack-protector -fno-asynchronous-unwind-tables -O2 -g -UMISSING_SYSCALL_NAMES"
# Feature switches: integer-only printf/scanf (no SSE), no syscalls supplied (hvmon provides
# write/sbrk/... glue), small reentrancy structure, no libm (it needs floating point registers).
CONFIG_FLAGS="--target=x86_64-elf --disable-multilib --disable-newlib-io-float \
--disable-newlib-supplied-syscalls --enable-newlib-reent-small --disable-newlib-fvwrite-in-streamio \
--disable-newlib-wide-orient --enable-newlib-nano-malloc --disable-newlib-unbuf-stream-opt \
--enable-lite-exit --enable-newlib-global-atexit --disable-nls"

[ -d "$src/newlib" ] || { log "newlib sources missing in $src (run tools/deps.sh)"; exit 1; }
version=$(sed -n 's/^PACKAGE_VERSION=.\([0-9.]*\).*/\1/p' "$src/newlib/configure" | head -n1)
want="newlib $version | $NEWLIB_CFLAGS | $CONFIG_FLAGS | $(gcc -dumpfullversion)"

# The syscall glue hvmon must provide (classic newlib porting names; -UMISSING_SYSCALL_NAMES keeps the underscores).
GLUE="_close _fstat _isatty _lseek _read _sbrk _write"

check() {
  local t; t=$(mktemp -d)
  cat > "$t/t.c" <<'CEOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
char buf[128];
int hv_link_test(int x)
{
	int n = snprintf(buf, sizeof(buf), "x=%d %s %#" PRIx64, x, "hi", (uint64_t)x << 40);
	char *p = malloc(32);
	if (p) { memcpy(p, buf, 8); free(p); }
	printf("%s\n", buf);
	return n + (int)strlen(buf) + (int)strtoul("42", NULL, 0);
}
void _start(void) { hv_link_test(3); for (;;) ; }
CEOF
  # shellcheck disable=SC2086
  gcc -std=gnu11 $NEWLIB_CFLAGS -Wall -Werror -isystem "$out/include" -c "$t/t.c" -o "$t/t.o" || { rm -rf "$t"; return 1; }
  gcc -nostdlib -static -no-pie -Wl,-Ttext=0xffffffff80100000 -o "$t/t.elf" "$t/t.o" "$out/lib/libc.a" -lgcc \
    > "$t/ld.log" 2>&1 || true
  local undef
  undef=$(grep -o "undefined reference to .[A-Za-z_0-9]*" "$t/ld.log" | sed 's/.* .//' | sort -u | tr '\n' ' ')
  rm -rf "$t"
  local bad="" s
  for s in $undef; do
    case " $GLUE " in *" $s "*) ;; *) bad="$bad $s" ;; esac
  done
  if [ -n "$bad" ] || [ -z "$undef" ]; then
    log "link test FAILED: unexpected unresolved symbols:${bad:- (none at all: glue list stale?)}"; return 1
  fi
  log "link test ok: only syscall glue unresolved: $undef"
}

if [ "${1:-}" = --check ]; then
  [ -f "$out/lib/libc.a" ] || { log "no $out/lib/libc.a (run tools/build-newlib.sh)"; exit 1; }
  check; exit
fi

if [ "${1:-}" != --force ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
   && [ -f "$out/lib/libc.a" ] && [ -f "$out/include/stdio.h" ]; then
  exit 0
fi

# Several people/processes may run `make` at once: one build at a time, the others wait for it
# and then take the fast path.
mkdir -p "$top/third_party/build"
exec 9>"$top/third_party/build/.newlib.lock"
flock 9
if [ "${1:-}" != --force ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$out/lib/libc.a" ]; then
  exit 0
fi

log "building newlib $version libc (a few minutes) ..."
rm -rf "$work" "$out"
mkdir -p "$work" "$out"
jobs=${NEWLIB_JOBS:-2}
# Compiler wrapper: newlib has functions whose ABI needs floating-point registers (difftime,
# strtod, ...). They cannot exist under -mgeneral-regs-only; such a file compiles to an empty
# object instead and is listed in EXCLUDED.txt, so a use of it in ring -1 is a link error
# (undefined reference), never silent SSE use. Any other compile error stays fatal.
cat > "$work/cc-wrapper" <<'WRAP'
#!/usr/bin/env bash
err=$(gcc "$@" 2>&1) && { [ -z "$err" ] || printf '%s\n' "$err" >&2; exit 0; }
if printf '%s' "$err" | grep -Eq '(SSE|x87|MMX)[a-z ]* (return|argument)?.*disabled|with SSE disabled|with x87 disabled'; then
  out=""; src=""; prev=""
  for a in "$@"; do
    [ "$prev" = -o ] && out=$a
    case $a in *.c) src=$a ;; esac
    prev=$a
  done
  if [ -n "$out" ]; then
    printf '%s\n' "${src:-?}" >> "$NEWLIB_EXCLUDED"
    exec gcc -ffreestanding -mgeneral-regs-only -x c -c /dev/null -o "$out"
  fi
fi
printf '%s\n' "$err" >&2
exit 1
WRAP
chmod +x "$work/cc-wrapper"
export NEWLIB_EXCLUDED="$work/EXCLUDED.txt"
: > "$NEWLIB_EXCLUDED"
(
  cd "$work"
  # Host binutils/gcc act as the x86_64-elf target tools: the object format is the same.
  # shellcheck disable=SC2086
  "$src/configure" $CONFIG_FLAGS --prefix="$work/install" \
    CC_FOR_TARGET="$work/cc-wrapper" AR_FOR_TARGET=ar AS_FOR_TARGET=as LD_FOR_TARGET=ld \
    NM_FOR_TARGET=nm RANLIB_FOR_TARGET=ranlib OBJDUMP_FOR_TARGET=objdump \
    STRIP_FOR_TARGET=strip READELF_FOR_TARGET=readelf \
    CFLAGS_FOR_TARGET="$NEWLIB_CFLAGS" CCASFLAGS_FOR_TARGET="$NEWLIB_CFLAGS" \
    > configure.log 2>&1 || { tail -n 30 configure.log >&2; log "configure failed ($work/configure.log)"; exit 1; }
  nice -n 10 make -j"$jobs" all-target-newlib > make.log 2>&1 \
    || { grep -n -B2 -A8 'error' make.log | tail -n 40 >&2; log "make failed ($work/make.log)"; exit 1; }
  make install-target-newlib > install.log 2>&1 \
    || { tail -n 30 install.log >&2; log "install failed ($work/install.log)"; exit 1; }
)
cp -a "$work/install/x86_64-elf/include" "$out/include"
mkdir -p "$out/lib"
cp "$work/install/x86_64-elf/lib/libc.a" "$out/lib/libc.a"
{ echo "# newlib sources that need floating-point registers: compiled empty, not in libc.a"
  sed "s|^$src/||" "$NEWLIB_EXCLUDED" | grep -v conftest | sort -u; } > "$out/EXCLUDED.txt"
# Sanity: the archive must hold only code built without SSE. An SSE/x87 register in the
# disassembly means a flag did not reach some object.
if objdump -d "$out/lib/libc.a" | grep -Eq '%xmm|%ymm|%st\(|%mm[0-7]'; then
  log "libc.a contains SSE/x87/MMX instructions; refusing"; exit 1
fi
echo "$want" > "$stamp"
rm -rf "$work"
log "done: $out/lib/libc.a ($(du -h "$out/lib/libc.a" | cut -f1))"

#!/usr/bin/env bash
# Build an out-of-tree guest kernel module against Debian's linux-headers of the default test
# kernel (fetched and extracted under cache/headers/ by tests/fixtures.sh, not installed).
# The source DIR (with a Kbuild file) is copied to build/modules/<name>/ so the tree stays clean.
# Usage: tests/guest/build-module.sh DIR     prints the path(s) of the built .ko file(s)
# HV_MODULE_KERNEL=5.10: build against the Debian 11 5.10 cloud kernel's headers instead
# (tests/fixtures.sh headers-5.10), into build/modules-5.10/<name>/.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "build-module: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 DIR"
src=$(cd "$1" 2>/dev/null && pwd) || die "no such directory: $1"
[ -f "$src/Kbuild" ] || [ -f "$src/Makefile" ] || die "$src has no Kbuild/Makefile"
name=$(basename "$src")
mkargs=()
case ${HV_MODULE_KERNEL:-} in
  "") kdir=$("$top/tests/fixtures.sh" headers) || die "kernel headers unavailable"
      out="$top/build/modules/$name" ;;
  5.10) kdir=$("$top/tests/fixtures.sh" headers-5.10) || die "5.10 kernel headers unavailable"
      out="$top/build/modules-5.10/$name"
      # Debian 11 built 5.10 with gcc-10, which Debian 12 does not ship: its gcc builds
      # the module (5.10's vermagic does not name the compiler).
      mkargs+=(CC=gcc) ;;
  *) die "HV_MODULE_KERNEL=$HV_MODULE_KERNEL: only 5.10 (or unset)" ;;
esac
# Scripts that run side by side may build the same module: one build at a time per module, and
# a module already built from the same sources against the same headers is not rebuilt (a
# rebuild would remove the .ko another script is packing into its initramfs).
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
stamp="$out/.built-from"
# Keyed on the sources' content, not their times: a source rewritten while a build ran (a git
# rebase) is newer than nothing the stamp could record, and a time check then kept the old .ko.
srchash=$(cd "$src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
want="$kdir ${mkargs[*]:-} $srchash"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && ls "$out"/*.ko >/dev/null 2>&1; then
  ls "$out"/*.ko
  exit 0
fi
rm -rf "$out"; mkdir -p "$out"
cp -a "$src"/. "$out"/
if ! make -C "$kdir" M="$out" ${mkargs[@]+"${mkargs[@]}"} modules > "$out/build.log" 2>&1; then
  cat "$out/build.log" >&2; die "module build failed ($out/build.log)"
fi
ls "$out"/*.ko 2>/dev/null || die "no .ko produced in $out"
echo "$want" > "$stamp"

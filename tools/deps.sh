#!/usr/bin/env bash
# hvmon dependency setup: Debian packages, then third-party sources fetched and
# built into third_party/ (git-ignored). Idempotent; fast when everything is there.
# Usage: tools/deps.sh [--packages-only|--sources-only]
# HV_NO_FIXTURES=1 skips fetching the guest kernels/headers (tests/fixtures.sh all).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tp="$top/third_party"
stamp="$tp/.stamps"
mkdir -p "$tp" "$stamp"
# Every `make` runs this, and integration scripts run side by side (two makes at once): one
# deps.sh at a time. Re-entrant through HV_DEPS_LOCKED (a nested make already holds the lock).
if [ -z "${HV_DEPS_LOCKED:-}" ]; then
  exec 7>"$tp/.deps.lock"
  flock 7
  export HV_DEPS_LOCKED=1
fi

log() { printf 'deps: %s\n' "$*" >&2; }
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

PACKAGES=(
  build-essential clang lld llvm dpkg-dev git python3 cpio xz-utils zstd lz4 bzip2 lzop
  bochs bochsbios vgabios
  grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools dosfstools
  busybox-static
  newlib-source
  libcmocka-dev
  gnu-efi ovmf qemu-system-x86 seabios
  swtpm tpm2-tools libtss2-tcti-swtpm0
  zlib1g-dev liblzma-dev liblz4-dev libzstd-dev libbz2-dev liblzo2-dev
  dwarves gdb
  file gcc-12
  libclang-rt-14-dev
  debhelper lintian debootstrap mandoc systemd logrotate
)

need_pkgs() {
  # One dpkg-query for all packages (a call per package costs ~0.3 s on a loaded machine).
  local installed
  installed=" $(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null \
    | awk '$NF == "installed" && $(NF-1) == "ok" {print $1}' | tr '\n' ' ') "
  local p
  for p in "${PACKAGES[@]}"; do
    case $installed in *" $p "*) ;; *) printf '%s\n' "$p" ;; esac
  done
}

ensure_deb_src() {
  # apt-get source needs deb-src entries for bookworm.
  if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding deb-src entries for bookworm"
    $SUDO tee /etc/apt/sources.list.d/hvmon-deb-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    touch "$stamp/apt-update-needed"
  fi
}

install_packages() {
  ensure_deb_src
  local missing
  missing=$(need_pkgs)
  if [ -n "$missing" ] || [ -f "$stamp/apt-update-needed" ]; then
    log "installing: $(echo $missing | tr '\n' ' ')"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    rm -f "$stamp/apt-update-needed"
    # shellcheck disable=SC2086
    [ -z "$missing" ] || $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
}

# fetch_source PKG DIRNAME: apt-get source into third_party/src/DIRNAME
fetch_source() {
  local pkg=$1 dir=$2
  [ -d "$tp/src/$dir" ] && return 0
  log "fetching source package $pkg"
  local tmp; tmp=$(mktemp -d "$tp/.fetch.XXXXXX")
  if ! (cd "$tmp" && apt-get source -qq --download-only "$pkg" >/dev/null 2>&1); then
    rm -rf "$tmp"; log "apt-get source $pkg failed"; return 1
  fi
  (cd "$tmp" && dpkg-source --no-check -x ./*.dsc src >/dev/null)
  mkdir -p "$tp/src"
  mv "$tmp/src" "$tp/src/$dir"
  rm -rf "$tmp"
}

# fetch_deb_headers PKG DIRNAME: unpack a -dev binary package's /usr/include
fetch_deb_headers() {
  local pkg=$1 dir=$2
  [ -d "$tp/src/$dir/include" ] && return 0
  log "source of $dir unavailable; using headers from binary package $pkg"
  local tmp; tmp=$(mktemp -d "$tp/.fetch.XXXXXX")
  (cd "$tmp" && apt-get download -qq "$pkg" 2>/dev/null && dpkg-deb -x ./*.deb x)
  mkdir -p "$tp/src/$dir"
  mv "$tmp/x/usr/include" "$tp/src/$dir/include"
  echo "headers only, from $(basename "$tmp"/*.deb)" > "$tp/src/$dir/ORIGIN"
  rm -rf "$tmp"
}

fetch_sources() {
  fetch_source lwip lwip
  fetch_source zydis zydis
  # Debian's zycore-c source package is listed but its files are gone from the
  # archive (404 on zycore-c_1.4.1.orig.tar.gz as of 2026-11). Zydis' decoder
  # needs only Zycore's headers with ZYAN_NO_LIBC, so fall back to the headers
  # of the same version from the binary package libzycore-dev.
  if ! fetch_source zycore-c zycore-c 2>/dev/null; then
    fetch_deb_headers libzycore-dev zycore-c
  fi
  fetch_source mbedtls mbedtls
  # the ring -1 seal of the wire protocol (events/wire_seal.c, issue 16):
  # BearSSL's ChaCha20 + Poly1305 (64-bit multiplications), freestanding C
  fetch_source bearssl bearssl
  if [ ! -d "$tp/src/newlib" ]; then
    log "unpacking newlib from newlib-source"
    local tarball; tarball=$(ls /usr/src/newlib/newlib-*.tar.* 2>/dev/null | head -n1 || true)
    [ -n "$tarball" ] || { log "newlib-source tarball not found under /usr/src/newlib"; exit 1; }
    local tmp; tmp=$(mktemp -d "$tp/.fetch.XXXXXX")
    tar -C "$tmp" -xf "$tarball"
    mv "$tmp"/newlib-* "$tp/src/newlib"
    rm -rf "$tmp"
  fi
}

case "${1:-all}" in
  --packages-only) install_packages ;;
  --sources-only) fetch_sources ;;
  all) install_packages; fetch_sources
       [ -x "$top/tools/build-newlib.sh" ] && "$top/tools/build-newlib.sh"
       # events/network: mbedTLS (ChaCha20-Poly1305) and lwIP, host + ring -1
       for b in build-mbedtls build-lwip build-zydis; do
         if [ -x "$top/tools/$b.sh" ]; then "$top/tools/$b.sh"; fi
       done
       # guest fixtures: pinned kernels + linux-headers (cache/, one-time ~150 MB download)
       if [ -x "$top/tests/fixtures.sh" ] && [ "${HV_NO_FIXTURES:-0}" != 1 ]; then
         "$top/tests/fixtures.sh" all
       fi ;;
  *) echo "usage: $0 [--packages-only|--sources-only]" >&2; exit 2 ;;
esac

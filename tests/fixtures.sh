#!/usr/bin/env bash
# Guest fixtures for hvmon's tests: pinned Debian kernels, kernel headers for out-of-tree
# test modules, and a busybox initramfs that runs a scenario and powers off.
#
# Usage:
#   tests/fixtures.sh list                      pinned kernel packages (first = default)
#   tests/fixtures.sh kernel [PKG|ALIAS]        fetch+extract; print the bzImage path
#   tests/fixtures.sh kernel-root [PKG|ALIAS]   print the extracted package root (lib/modules/...)
#   tests/fixtures.sh headers                   fetch+extract linux-headers for the default kernel;
#                                               print the kbuild dir (make -C DIR M=... modules)
#   tests/fixtures.sh initramfs [options]       build an initramfs; print its path
#       -s, --scenario NAME   default scenario (tests/guest/scenarios/NAME.sh; default: boot). All
#                             scenarios are in the image; `scenario=NAME` on the guest cmdline overrides.
#       -m, --module FILE.ko  add an out-of-tree module as /modules/<name>.ko (repeatable;
#                             loaded at boot in the given order unless --no-load)
#       -k, --kmod NAME       add module NAME (e.g. evdev) from the kernel package (repeatable)
#       --kernel PKG|ALIAS    kernel whose modules -k takes (default: default kernel)
#       --no-load             copy modules but do not insmod them at boot
#       -o FILE               output (default build/initramfs/<scenario>.cpio.gz)
#   tests/fixtures.sh debroot                   a throwaway Debian root for the package test
#                                               (debootstrap minbase + grub); print its tarball
#   tests/fixtures.sh all                       fetch every pinned kernel, the headers, the root
#   tests/fixtures.sh headers-5.10              same as headers for the 5.10 cloud kernel (Debian 11)
#   tests/fixtures.sh apt-bullseye TOOL ARGS... apt-get/apt-cache with the private Debian 11 configuration
#
# ALIAS: cloud (default) = linux-image-6.1.0-56-cloud-amd64-unsigned,
#        generic = linux-image-6.1.0-56-amd64-unsigned,
#        6.12 = linux-image-6.12.117+deb12-cloud-amd64-unsigned,
#        5.10 = linux-image-5.10.0-32-cloud-amd64-unsigned (Debian 11 "bullseye", issue 14;
#        also 5.10-generic, 5.10-rt). 5.10 packages come from bullseye through a private apt
#        configuration under cache/apt-bullseye/ (the system's sources are never edited).
#
# Guest console protocol (COM1/ttyS0), written by /init:
#   HVMON-GUEST: userspace reached uptime=<s>     first line from userspace
#   HVMON-GUEST: insmod <name> rc=<n>             per module loaded at boot
#   HVMON-GUEST: scenario <name> start
#   HVMON-GUEST: scenario <name> exit=<rc>        scenario script finished (rc 0 = its checks passed)
#   HVMON-GUEST: powering off
set -euo pipefail
shopt -s inherit_errexit
top=$(cd "$(dirname "$0")/.." && pwd)
cache="$top/cache"
debs="$cache/debs"

PINNED=(
  linux-image-6.1.0-56-cloud-amd64-unsigned
  linux-image-6.1.0-56-amd64-unsigned
  linux-image-6.12.117+deb12-cloud-amd64-unsigned
  linux-image-5.10.0-32-cloud-amd64-unsigned
  linux-image-5.10.0-32-amd64-unsigned
  linux-image-5.10.0-32-rt-amd64-unsigned
)
HEADERS_PKGS=(linux-headers-6.1.0-56-cloud-amd64 linux-headers-6.1.0-56-common linux-kbuild-6.1)
KVER_DEFAULT=6.1.0-56-cloud-amd64
HEADERS_PKGS_510=(linux-headers-5.10.0-32-cloud-amd64 linux-headers-5.10.0-32-common linux-kbuild-5.10)
KVER_510=5.10.0-32-cloud-amd64

log() { printf 'fixtures: %s\n' "$*" >&2; }
die() { printf 'fixtures: ERROR: %s\n' "$*" >&2; exit 1; }

resolve() {
  case ${1:-cloud} in
    cloud|default) echo "${PINNED[0]}" ;;
    generic|amd64) echo "${PINNED[1]}" ;;
    6.12|612) echo "${PINNED[2]}" ;;
    5.10|510|5.10-cloud) echo "${PINNED[3]}" ;;
    5.10-generic|5.10-amd64) echo "${PINNED[4]}" ;;
    5.10-rt) echo "${PINNED[5]}" ;;
    linux-*) echo "$1" ;;
    *) die "unknown kernel '$1' (use cloud, generic, 6.12, 5.10, 5.10-generic, 5.10-rt or a package name)" ;;
  esac
}

# Debian 11 (bullseye) packages (the 5.10 kernels) come through a private apt configuration:
# its own sources list, package lists, cache and an empty dpkg status under cache/apt-bullseye/.
# The system's sources and lists are not touched.
bullseye_dir="$cache/apt-bullseye"
is_bullseye() { case $1 in *-5.10.0-*|linux-kbuild-5.10) return 0 ;; esac; return 1; }
apt_bullseye_opts() {
  printf '%s\n' -o "Dir::Etc::sourcelist=$bullseye_dir/sources.list" -o Dir::Etc::sourceparts=/nonexistent \
    -o "Dir::State::Lists=$bullseye_dir/lists" -o "Dir::Cache=$bullseye_dir/cache" \
    -o "Dir::State::status=$bullseye_dir/status" -o APT::Architecture=amd64
}
apt_bullseye_setup() {
  mkdir -p "$bullseye_dir/lists/partial" "$bullseye_dir/cache/archives/partial"
  [ -f "$bullseye_dir/status" ] || : > "$bullseye_dir/status"
  cat > "$bullseye_dir/sources.list.tmp" <<'SRC'
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bullseye-security main
SRC
  mv "$bullseye_dir/sources.list.tmp" "$bullseye_dir/sources.list"
  if ! ls "$bullseye_dir"/lists/*_Packages* >/dev/null 2>&1; then
    local o; mapfile -t o < <(apt_bullseye_opts)
    apt-get "${o[@]}" update -qq >/dev/null 2>&1 ||
      die "apt-get update of the private bullseye configuration ($bullseye_dir) failed"
  fi
}
# apt_for PKG TOOL ARGS...: TOOL (apt-get/apt-cache) with the configuration PKG comes from.
apt_for() {
  local pkg=$1 tool=$2 o=(); shift 2
  if is_bullseye "$pkg"; then
    apt_bullseye_setup
    mapfile -t o < <(apt_bullseye_opts)
  fi
  "$tool" ${o[@]+"${o[@]}"} "$@"
}
apt_update_for() { apt_for "$1" apt-get update -qq >/dev/null 2>&1 || true; }

# newest_like PKG: newest package in the archive with the same name shape (ABI number varies).
newest_like() {
  local pat
  pat=$(printf '%s' "$1" | sed -E 's/\+/\\+/g; s/-6\.1\.0-[0-9]+-/-6.1.0-[0-9]+-/; s/-5\.10\.0-[0-9]+-/-5.10.0-[0-9]+-/;
        s/-6\.12\.[0-9]+\\\+deb12-/-6.12.[0-9]+\\+deb12-/; s/^/^/; s/$/$/')
  apt_for "$1" apt-cache search --names-only "$pat" 2>/dev/null | awk '{print $1}' | sort -V | tail -n1
}

# fetch_deb PKG: cached .deb path (cache/debs/PKG_*.deb), downloading it if needed.
fetch_deb() {
  local pkg=$1 f
  f=$(ls "$debs/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$f" ]; then
    mkdir -p "$debs"
    log "downloading $pkg"
    if ! (cd "$debs" && apt_for "$pkg" apt-get download -qq "$pkg" >/dev/null 2>&1); then
      apt_update_for "$pkg"
      if ! (cd "$debs" && apt_for "$pkg" apt-get download -qq "$pkg" >/dev/null 2>&1); then
        local newest avail
        newest=$(newest_like "$pkg")
        avail=$(apt_for "$pkg" apt-cache madison "$pkg" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | head -n1)
        die "pinned package $pkg cannot be downloaded${avail:+ (madison lists $avail)}; newest available of its kind: ${newest:-none found}${newest:+ ($(apt_for "$newest" apt-cache madison "$newest" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | head -n1))}. Update the pin in tests/fixtures.sh."
      fi
    fi
    f=$(ls "$debs/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
    [ -n "$f" ] || die "apt-get download $pkg produced no file"
  fi
  echo "$f"
}

# extract PKG: cache/kernels/PKG (package root), idempotent.
extract() {
  local pkg=$1 dir="$cache/kernels/$1" deb
  if [ ! -f "$dir/.extracted" ]; then
    deb=$(fetch_deb "$pkg")
    rm -rf "$dir"; mkdir -p "$dir"
    dpkg-deb -x "$deb" "$dir" || die "dpkg-deb -x $deb failed"
    basename "$deb" > "$dir/.extracted"
  fi
  echo "$dir"
}

kernel() {
  local pkg dir k
  pkg=$(resolve "${1:-}")
  dir=$(extract "$pkg")
  k=$(ls "$dir"/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
  [ -n "$k" ] || die "no /boot/vmlinuz-* in $pkg"
  echo "$k"
}

# headers_of KVER GCC PKG...: extract the header packages of KVER; print its kbuild dir.
headers_of() {
  local kver=$1 gcc=$2 p deb; shift 2
  local root="$cache/headers/$kver"
  local kb="$root/usr/src/linux-headers-$kver"
  if [ ! -f "$root/.extracted" ]; then
    rm -rf "$root"; mkdir -p "$root"
    for p in "$@"; do
      if [ "$p" = linux-kbuild-6.1 ]; then
        deb=$(ls "$debs"/linux-kbuild-6.1_6.1.192-2_*.deb 2>/dev/null | head -n1 || true)
        [ -n "$deb" ] || deb=$(fetch_deb "$p")
      else
        deb=$(fetch_deb "$p")
      fi
      dpkg-deb -x "$deb" "$root" || die "dpkg-deb -x $deb failed"
    done
    # The flavour's Makefile includes the -common tree by absolute /usr/src path: point it here.
    sed -i "s|^include /usr/src/|include $(cd "$root" && pwd -P)/usr/src/|" "$kb/Makefile"
    [ -d "$kb/scripts/" ] || die "kbuild scripts missing in $kb (linux-kbuild not extracted?)"
    command -v "$gcc" >/dev/null || die "$gcc missing (the Debian kernel was built with it)"
    touch "$root/.extracted"
  fi
  # The include path is absolute: a cache extracted through another worktree's cache/ symlink
  # (before it was resolved with pwd -P) names that worktree, which may be gone. Re-point it.
  local inc
  inc=$(sed -n 's|^include \(/.*/usr/src/.*\)$|\1|p' "$kb/Makefile" | head -n1)
  if [ -n "$inc" ] && [ ! -f "$inc" ]; then
    sed -i "s|^include /.*/usr/src/|include $(cd "$root" && pwd -P)/usr/src/|" "$kb/Makefile"
  fi
  echo "$kb"
}
headers() { headers_of "$KVER_DEFAULT" gcc-12 "${HEADERS_PKGS[@]}"; }
headers_510() { headers_of "$KVER_510" gcc "${HEADERS_PKGS_510[@]}"; }

initramfs() {
  local scenario=boot out="" kpkg="" noload=0 mods=() kmods=()
  while [ $# -gt 0 ]; do
    case $1 in
      -s|--scenario) scenario=$2; shift 2 ;;
      -m|--module) mods+=("$2"); shift 2 ;;
      -k|--kmod) kmods+=("$2"); shift 2 ;;
      --kernel) kpkg=$2; shift 2 ;;
      --no-load) noload=1; shift ;;
      -o) out=$2; shift 2 ;;
      *) die "initramfs: unknown argument $1" ;;
    esac
  done
  local scen_dir="$top/tests/guest/scenarios"
  [ -f "$scen_dir/$scenario.sh" ] || die "no scenario '$scenario' ($scen_dir/$scenario.sh)"
  [ -n "$out" ] || out="$top/build/initramfs/$scenario.cpio.gz"
  local bb=/bin/busybox
  file -L "$bb" 2>/dev/null | grep -q 'statically linked' || die "$bb is not busybox-static (run tools/deps.sh)"

  local root; root=$(mktemp -d)
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,modules,scenarios,root}
  cp "$bb" "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  cp "$scen_dir"/*.sh "$root/scenarios/"
  local order="$root/modules/order" m name kroot f
  : > "$order"
  for m in ${mods[@]+"${mods[@]}"}; do
    [ -f "$m" ] || die "module not found: $m"
    name=$(basename "$m")
    cp "$m" "$root/modules/$name"
    case $name in *.ko) echo "$name" >> "$order" ;; esac   # a program (-m hvvec) is not insmod'ed
  done
  if [ ${#kmods[@]} -gt 0 ]; then
    kroot=$(extract "$(resolve "${kpkg:-}")")
    for m in "${kmods[@]}"; do
      f=$(find "$kroot/lib/modules" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n1)
      [ -n "$f" ] || die "module $m not in $(basename "$kroot")"
      case $f in
        *.xz) xz -dc "$f" > "$root/modules/$m.ko" ;;
        *.zst) zstd -qdc "$f" > "$root/modules/$m.ko" ;;
        *) cp "$f" "$root/modules/$m.ko" ;;
      esac
      echo "$m.ko" >> "$order"
    done
  fi
  [ "$noload" = 1 ] && mv "$order" "$root/modules/order.noload"
  cat > "$root/init" <<INIT
#!/bin/sh
# hvmon test guest init (generated by tests/fixtures.sh)
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "HVMON-GUEST: userspace reached uptime=\$(cut -d' ' -f1 /proc/uptime)"
# The serial driver drains /init's output asynchronously while printk writes synchronously: give
# the UART time to empty before the kernel is likely to print (module loading, power-off), so
# marker lines are not split by kernel messages. Idle guest time costs almost no wall time in
# Bochs (clock: sync=none).
if [ -s /modules/order ]; then
  sleep 1
  while read -r m; do
    insmod "/modules/\$m"; echo "HVMON-GUEST: insmod \${m%.ko} rc=\$?"
  done < /modules/order
  sleep 1
fi
# The kernel hands unknown key=value boot parameters to init as environment variables.
S=\${scenario:-$scenario}
[ -f "/scenarios/\$S.sh" ] || { echo "HVMON-GUEST: no scenario \$S"; S=none; }
echo "HVMON-GUEST: scenario \$S start"
if [ "\$S" != none ]; then sh "/scenarios/\$S.sh"; rc=\$?; else rc=127; fi
echo "HVMON-GUEST: scenario \$S exit=\$rc"
sync
echo "HVMON-GUEST: powering off"
sleep 1
poweroff -f
sleep 5
echo "HVMON-GUEST: poweroff failed"
while :; do sleep 3600; done
INIT
  chmod +x "$root/init"
  mkdir -p "$(dirname "$out")"
  (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -9n > "$out.tmp")
  mv "$out.tmp" "$out"
  rm -rf "$root"
  echo "$out"
}

# debroot: the Debian root tests/integration/pkg_deb.sh installs the package into — bookworm
# `debootstrap --variant=minbase` from Debian's mirror plus GRUB's generator (grub-common,
# grub2-common: grub-mkconfig, update-grub, /etc/grub.d), the host tools' libraries
# (liblzo2-2; the rest is in minbase) and systemd (the units systemd-analyze verify checks
# the service against). Kept as cache/debroot/<name>.tar.zst: the first run
# takes ~4-5 min (download + dpkg configuring ~100 packages), later runs only unpack it.
DEBROOT_SUITE=bookworm
DEBROOT_INCLUDE=grub-common,grub2-common,liblzo2-2,systemd
DEBROOT_MIRROR=${DEBROOT_MIRROR:-http://deb.debian.org/debian}
debroot() {
  local name tarball tmp
  name=$DEBROOT_SUITE-minbase-$(printf '%s' "$DEBROOT_INCLUDE" | sha256sum | cut -c1-8)
  tarball="$cache/debroot/$name.tar.zst"
  if [ ! -f "$tarball" ]; then
    [ "$(id -u)" = 0 ] || die "debroot: debootstrap needs root"
    command -v debootstrap >/dev/null || die "debroot: debootstrap missing (tools/deps.sh)"
    log "debroot: debootstrap --variant=minbase $DEBROOT_SUITE (+$DEBROOT_INCLUDE), one-time ~4-5 min"
    mkdir -p "$cache/debroot"
    tmp=$(mktemp -d "$cache/debroot/.build.XXXXXX")
    if ! debootstrap --variant=minbase --include="$DEBROOT_INCLUDE" "$DEBROOT_SUITE" "$tmp/root" \
        "$DEBROOT_MIRROR" > "$tmp/debootstrap.log" 2>&1; then
      tail -n 20 "$tmp/debootstrap.log" >&2; rm -rf "$tmp"; die "debroot: debootstrap failed"
    fi
    rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*_Packages
    tar -C "$tmp/root" --numeric-owner -cf - . | zstd -q -T0 -o "$tarball.tmp"
    mv "$tarball.tmp" "$tarball"
    rm -rf "$tmp"
  fi
  echo "$tarball"
}

cmd=${1:-}; [ $# -gt 0 ] && shift
# Integration scripts run side by side (tests/run-integration.sh): one fixtures.sh at a time, so
# that two scripts never fetch or extract the same package into cache/ at once. Re-entrant
# through HV_FIXTURES_LOCKED (a nested call already holds the lock).
if [ "$cmd" != list ] && [ -z "${HV_FIXTURES_LOCKED:-}" ]; then
  mkdir -p "$cache"
  exec 8>"$cache/.fixtures.lock"
  flock 8
  export HV_FIXTURES_LOCKED=1
fi
case $cmd in
  list) printf '%s\n' "${PINNED[@]}" ;;
  kernel) kernel "${1:-}" ;;
  kernel-root) extract "$(resolve "${1:-}")" ;;
  headers) headers ;;
  headers-5.10) headers_510 ;;
  apt-bullseye) apt_for linux-kbuild-5.10 "$@" ;;
  initramfs) initramfs "$@" ;;
  debroot) debroot ;;
  all) for p in "${PINNED[@]}"; do kernel "$p" >/dev/null; done; headers >/dev/null; headers_510 >/dev/null; debroot >/dev/null ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac

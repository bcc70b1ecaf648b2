#!/usr/bin/env bash
# tools/mkdeb.sh — `make deb`: build/deb/hvmon_<version>_amd64.deb with Debian's tools.
#
# Why dpkg-buildpackage + debhelper on a prepared tree (and not on the repository itself):
# hvmon.elf links third-party code that tools/deps.sh fetches and builds freestanding
# (apt-get source, needs the network and root), which a Debian source build cannot do; and
# dpkg-buildpackage writes its results to the parent directory, which for a checkout is
# outside the repository. So `make` builds the artifacts, this script builds the two host
# tools once more with dpkg-buildflags' hardening flags (build/deb/host/), copies them with
# pkg/ into build/deb/src/stage/, and runs dpkg-buildpackage -b in build/deb/src: debhelper
# installs, compresses, strips, computes the shared-library dependencies (dpkg-shlibdeps),
# marks the conffiles and writes the maintainer scripts. Output: build/deb/*.deb.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=build/deb
src=$out/src
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)

# hardened host tools (incremental: same BUILD dir, same flags every time)
make -s BUILD=$out/host HOST_EXTRA_CFLAGS="$cflags" HOST_LDFLAGS="$ldflags" \
	$out/host/tools/hvinfer $out/host/tools/hvmon-collect >&2
make -s build/hvmon.elf build/uefi/hvmon.efi >&2

rm -rf "$src"
mkdir -p "$src/stage/man" "$src/stage/doc"
cp -r pkg/debian "$src/debian"
cp pkg/collect/hvmon-collect.service "$src/debian/hvmon.hvmon-collect.service"
cp pkg/collect/logrotate "$src/debian/hvmon.logrotate"
cp build/hvmon.elf build/uefi/hvmon.efi "$out/host/tools/hvinfer" "$out/host/tools/hvmon-collect" \
	pkg/hvmon-efi-install pkg/grub/25_hvmon pkg/grub/hvmon.cfg pkg/collect/collect.conf "$src/stage/"
cp pkg/man/*.[178] "$src/stage/man/"
cp README.md docs/BOOT.md docs/UEFI.md docs/OPTIONS.md docs/EVENTS.md docs/NETWORK.md \
	docs/PROTOCOL.md docs/INFER.md docs/MONITORS.md "$src/stage/doc/"
rm -f "$out"/hvmon_*
(cd "$src" && dpkg-buildpackage -b -us -uc > ../dpkg-buildpackage.log 2>&1) || {
	tail -n 30 "$out/dpkg-buildpackage.log" >&2; echo "mkdeb: dpkg-buildpackage failed (log: $out/dpkg-buildpackage.log)" >&2; exit 1; }
deb=$(ls "$out"/hvmon_*_amd64.deb)
echo "$top/$deb"

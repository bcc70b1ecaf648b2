#!/usr/bin/env bash
# Harness self-test (no hvmon): the default pinned kernel boots from a GRUB ISO under plain Bochs,
# /init reaches userspace, loads the out-of-tree module tests/guest/modules/hvtest_hello (built
# against Debian's linux-headers by tests/guest/build-module.sh) and evdev.ko from the kernel
# package, runs the module-hello scenario, and the guest powers off (ACPI) which ends Bochs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ko=$("$HV_TOP/tests/guest/build-module.sh" "$HV_TOP/tests/guest/modules/hvtest_hello") \
  || hv_fail "building hvtest_hello.ko failed"
hv_boot bare-module --bare --scenario module-hello --modules "$ko" --kmods evdev \
  --stop-on 'guest:reboot: Power down'
assert_status exit marker
assert_marker guest 'HVMON-GUEST: userspace reached' "guest never reached userspace"
assert_marker guest 'HVMON-GUEST: insmod hvtest_hello rc=0' "insmod hvtest_hello.ko failed"
assert_marker guest 'HVMON-GUEST: insmod evdev rc=0' "insmod evdev.ko (from the image package) failed"
assert_marker guest 'HVMON-GUEST: hvtest_hello loaded in 6\.1\.0-56-cloud-amd64' "module init message missing"
assert_marker guest 'HVMON-GUEST: hvtest_hello load/unload ok' "module-hello checks failed"
assert_marker guest 'HVMON-GUEST: scenario module-hello exit=0' "scenario failed"
assert_marker guest 'reboot: Power down|ACPI: PM: Preparing to enter system sleep state S5' "no clean power-off"
assert_no_marker guest 'Kernel panic|Oops|BUG:' "guest kernel error"
hv_pass "bare boot + out-of-tree module + evdev.ko + power-off ($(sed -n 's/^seconds=//p' "$RUN_DIR/result") s)"

# Scenario "keyscan" (issues 17/18, tests/integration/tamper_bochs.sh): a guest
# kernel module (tests/guest/keyscan) scans all guest RAM for hvmon's event key.
# The key reaches the guest only reversed (guest command line keyscan=...), so the
# scanner itself never writes the key into RAM. Then idle a few seconds so that
# hvmon's network channel (DHCP, first datagrams: boot_config) runs before power-off.
grep -q '^hvkeyscan ' /proc/modules || { echo "HVMON-GUEST: hvkeyscan not loaded"; exit 1; }
[ ${#keyscan} = 64 ] || { echo "HVMON-GUEST: keyscan= missing on the command line"; exit 1; }
echo "$keyscan" > /sys/module/hvkeyscan/parameters/scan || exit 1
dmesg | grep -o 'HVMON-GUEST: keyscan .*' | tail -1
i=0
while [ $i -lt ${KEYSCAN_WORK:-20} ]; do /bin/busybox true; sleep 0.5; i=$((i + 1)); done
dmesg | grep -q 'HVMON-GUEST: keyscan hits=0 ' || exit 1

# Scenario "keyscan" (issues 17/18, tests/integration/tamper_bochs.sh): a guest
# kernel module (tests/guest/keyscan) scans all guest RAM for hvmon's event key.
# The key reaches the guest only reversed (guest command line keyscan=...), so the
# scanner itself never writes the key into RAM. Then idle a few seconds so that
# hvmon's network channel (DHCP, first datagrams: boot_config) runs before power-off.
grep -q '^hvkeyscan ' /proc/modules || { echo "HVMON-GUEST: hvkeyscan not loaded"; exit 1; }
[ ${#keyscan} = 64 ] || { echo "HVMON-GUEST: keyscan= missing on the command line"; exit 1; }
echo "$keyscan" > /sys/module/hvkeyscan/parameters/scan || exit 1
dmesg | grep -o 'HVMON-GUEST: keyscan .*' | tail -1
# issue 17 (tamper_bochs.sh on corei7_skylake_x): hvtest's XCR0 attack, with AVX-512
if [ -n "${hvtest_xcr0:-}" ]; then
  echo 1 > /sys/module/hvtest/parameters/run_xcr0 || { echo "HVMON-GUEST: hvtest run_xcr0 failed"; exit 1; }
  dmesg | grep -o 'HVTEST: xcr0.*'
fi
# issue 17: ACPI SystemIO C-state entry, P_LVL2 and P_LVL3 of Bochs's P_BLK (plvl= on the command line)
if [ -n "${plvl:-}" ]; then
  for p in $(echo "$plvl" | tr , ' '); do echo "$p" > /sys/module/hvspec/parameters/read_port || exit 1; done
  dmesg | grep -o 'HVSPEC: port.*'
fi
# issue 17: an idle loop through a C-state port (hvcstate= on the command line): HLT-like waits
if [ -n "${hvcstate:-}" ]; then
  echo "$hvcstate" > /sys/module/hvspec/parameters/cstate_loop || exit 1
  dmesg | grep -o 'HVSPEC: cstate.*'
fi
i=0
while [ $i -lt ${KEYSCAN_WORK:-20} ]; do /bin/busybox true; sleep 0.5; i=$((i + 1)); done
dmesg | grep -q 'HVMON-GUEST: keyscan hits=0 ' || exit 1

# Scenario "module-hello": /init loaded /modules/hvtest_hello.ko; check the kernel agrees.
grep -q '^hvtest_hello ' /proc/modules || { echo "HVMON-GUEST: hvtest_hello not in /proc/modules"; exit 1; }
dmesg | grep 'HVMON-GUEST: hvtest_hello loaded in' || exit 1
rmmod hvtest_hello || exit 1
grep -q '^hvtest_hello ' /proc/modules && exit 1
echo "HVMON-GUEST: hvtest_hello load/unload ok"

# Scenario "boot": the guest reached userspace; report what it sees, check basic sanity.
# Runs under /bin/sh (busybox) from the initramfs /init; exit code = scenario result.
echo "HVMON-GUEST: kernel $(uname -r)"
echo "HVMON-GUEST: cpus $(grep -c ^processor /proc/cpuinfo)"
grep -q ' vmx' /proc/cpuinfo && vmx=yes || vmx=no
echo "HVMON-GUEST: cpuinfo-vmx $vmx"
echo "HVMON-GUEST: cmdline $(cat /proc/cmdline)"
# KASLR is on unless nokaslr was given: report where the kernel text landed (needs kptr_restrict=0).
echo 0 > /proc/sys/kernel/kptr_restrict 2>/dev/null
echo "HVMON-GUEST: _stext $(grep -m1 ' _stext$' /proc/kallsyms | cut -d' ' -f1)"
[ -d /proc/self ] && [ -c /dev/null ]

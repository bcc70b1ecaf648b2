# Scenario "demo" (make run): a small visible workload in the guest.
echo "HVMON-GUEST: demo: hello from $(uname -sr) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "HVMON-GUEST: demo: memory $(grep MemTotal /proc/meminfo)"
echo "HVMON-GUEST: demo: processes:"
ps -o pid,comm | head -n 8
echo "HVMON-GUEST: demo: computing sha256 of 4 MiB of /dev/urandom ..."
dd if=/dev/urandom bs=64k count=64 2>/dev/null | sha256sum
i=0; while [ $i -lt 5 ]; do /bin/true; i=$((i + 1)); done
echo "HVMON-GUEST: demo: forked 5 processes; uptime $(cut -d' ' -f1 /proc/uptime) s"
echo "HVMON-GUEST: demo: last kernel messages:"
dmesg | tail -n 3

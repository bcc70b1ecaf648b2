# Scenario "net" (docs/NETWORK.md): hvmon's management NIC must be invisible to the guest while the
# guest's own NIC works. tests/integration/net_vmx.sh boots the generic kernel (it has an e1000
# driver: /modules/e1000.ko) with two 82540EM cards: hvmon takes the first, the guest must see
# only the other one. Also runs a small process workload (tracer events).
n=0; e1000=0
for d in /sys/bus/pci/devices/*; do
  [ -e "$d/vendor" ] || continue
  v=$(cat "$d/vendor"); dv=$(cat "$d/device")
  echo "HVMON-GUEST: pci ${d##*/} $v:$dv class $(cat "$d/class")"
  n=$((n + 1))
  [ "$v:$dv" = 0x8086:0x100e ] && e1000=$((e1000 + 1))
done
echo "HVMON-GUEST: pci-functions $n"
echo "HVMON-GUEST: pci-e1000-count $e1000"
# lspci reads /sys/bus/pci/devices (above) or /proc/bus/pci/devices; busybox has no lspci applet,
# so list what it would read from /proc too: "BBDF vendordevice ..." (DF = dev<<3|fn, hex)
if command -v lspci >/dev/null 2>&1; then
  lspci 2>&1 | sed 's/^/HVMON-GUEST: lspci /'
else
  echo "HVMON-GUEST: lspci not in this initramfs (busybox): /sys and /proc/bus/pci listed instead"
fi
pe=0
while read -r bdf vd rest; do
  echo "HVMON-GUEST: procpci $bdf $vd"
  [ "$vd" = 8086100e ] && pe=$((pe + 1))
done < /proc/bus/pci/devices
echo "HVMON-GUEST: procpci-e1000-count $pe"
for i in /sys/class/net/*; do
  drv=$(readlink "$i/device/driver" 2>/dev/null)
  echo "HVMON-GUEST: netif ${i##*/} driver ${drv##*/} mac $(cat "$i/address")"
done
# the guest's own NIC works: link up + a DHCP lease from its slirp
if [ -e /sys/class/net/eth0 ]; then
  ip link set eth0 up 2>/dev/null || ifconfig eth0 up
  if udhcpc -i eth0 -n -q -t 5 -T 2 -s /bin/true >/tmp/udhcpc.log 2>&1; then
    echo "HVMON-GUEST: eth0 dhcp ok $(grep -o 'lease of [0-9.]*' /tmp/udhcpc.log | head -1)"
  else
    echo "HVMON-GUEST: eth0 dhcp failed"
  fi
fi
# net_vmx.sh sends junk datagrams to both NICs once this scenario started; the
# guest's own card sees its share: keep running (bounded) until it did, so that
# hvmon's card has received its share too before the power-off (the guest is
# fast now that no event sink stalls it)
if [ -r /sys/class/net/eth0/statistics/rx_packets ]; then
  rx0=$(cat /sys/class/net/eth0/statistics/rx_packets); j=0
  while [ $j -lt 400 ] && [ $(( $(cat /sys/class/net/eth0/statistics/rx_packets) - rx0 )) -lt ${NET_JUNK_WAIT:-200} ]; do
    /bin/busybox true; j=$((j + 1))
  done
  echo "HVMON-GUEST: eth0 junk wait $j rounds, rx +$(( $(cat /sys/class/net/eth0/statistics/rx_packets) - rx0 ))"
fi
# issue 16: /modules/hvvec (tests/guest/vecstate) keeps a pattern in the vector registers and
# MXCSR and checks it until told to stop, while the process workload below makes
# hvmon seal datagrams (SSE2 ChaCha20 between FXSAVE and FXRSTOR, arch/x86/fpu.h) on its exits
vpid=
if [ -x /modules/hvvec ]; then
  rm -f /tmp/hvvec.stop
  /modules/hvvec /tmp/hvvec.stop & vpid=$!
fi
# process workload: each iteration is an exec + fork + exit for the tracer
i=0
while [ $i -lt ${NET_WORK:-60} ]; do /bin/busybox true; i=$((i + 1)); done
echo "HVMON-GUEST: net workload done $i"
if [ -n "$vpid" ]; then
  : > /tmp/hvvec.stop
  wait $vpid; echo "HVMON-GUEST: vecstate exit=$?"
fi
[ "$e1000" = 1 ] && [ "$pe" = 1 ]

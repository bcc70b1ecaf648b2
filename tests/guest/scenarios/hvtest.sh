# Scenario "hvtest" (issue 2): load tests/guest/hvtest/hvtest.ko (copied with --no-load) with
# probe_pa = the first page of the first hole after a "System RAM" range above 1 MiB in
# /proc/iomem — where hvmon's memory is, as the guest's e820 left it out. The module reads
# that page and tries the VMX instructions/MSRs; this script checks its HVTEST: lines.
# The first address right after a "System RAM" range (above 1 MiB) that no other top-level
# /proc/iomem entry covers is a hole in the guest's memory map: hvmon's memory.
pa=""
ram_end=""
for line in $(grep -v '^ ' /proc/iomem | sed 's/ : /:/; s/ /_/g'); do
  r=${line%%:*}; what=${line#*:}
  s=$((0x${r%-*})); e=$((0x${r#*-}))
  if [ -n "$ram_end" ]; then
    if [ "$s" -gt $((ram_end + 1)) ]; then pa=$(printf '%#x' $((ram_end + 1))); break; fi
    ram_end=""
  fi
  [ "$what" = System_RAM ] && [ "$e" -ge $((0x100000)) ] && ram_end=$e
done
echo "HVMON-GUEST: hvtest probe_pa=${pa:-none}"
[ -n "$pa" ] || exit 2
insmod /modules/hvtest.ko probe_pa="$pa" || exit 3
out=$(dmesg | grep 'HVTEST:')
ok=0
chk() { echo "$out" | grep -q "$1" || { echo "HVMON-GUEST: hvtest check failed: $1"; ok=1; }; }
chk 'HVTEST: cpuid_vmx=0'
chk 'HVTEST: vmx_msrs_gp=18 vmx_msrs_readable=0'
chk 'HVTEST: feature_control_err=0 .*locked=1 vmx_enabled=0'
chk 'HVTEST: cr4_vmxe_visible=0'
chk 'HVTEST: cr4_set_vmxe_faulted=1 cr4_vmxe_after=0'
chk 'HVTEST: vmxon_faulted=1'
chk 'HVTEST: probe=done .*hvmon_magic=0'
exit $ok

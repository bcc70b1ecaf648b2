#!/usr/bin/env bash
# VT-d in QEMU TCG (issue 12): hvmon.elf booted by GRUB on q35 with
# `-device intel-iommu` and `-device edu,dma_mask=0xffffffffffff`, option
# iommu_selftest=on (vmm/iommu_selftest.c: hvmon's real VT-d set-up, then edu
# DMA into guest RAM (must work) and into hvmon's image, heap, EPT tables and
# IOMMU tables (must fault with reason 5/6 and edu's source id, bytes
# unchanged), DMAR hidden, unit registers out of EPT, a removed mapping caught
# after invalidation). Five configurations: aw-bits 39 / 48 x caching-mode
# off / on with queued invalidation, and aw-bits 48 + caching-mode on with
# register-based invalidation forced (iommu_selftest=register). Each run is bounded (VTD_QEMU_TIMEOUT, default 60 s) and ends
# through isa-debug-exit. Needs qemu-system-x86 (tools/deps.sh).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
make -s build/hvmon.elf >/dev/null || { echo "vtd_qemu: cannot build hvmon.elf" >&2; exit 1; }
work=build/test-vtd-qemu
rm -rf "$work"; mkdir -p "$work"
TMO=${VTD_QEMU_TIMEOUT:-60}
# the self-test starts no guest: any small files stand in for the modules
head -c 4096 /dev/zero > "$work/vmlinuz"; head -c 4096 /dev/zero > "$work/initrd"
tests/bochs/mkiso.sh -o "$work/vtd.iso" --kernel "$work/vmlinuz" --initrd "$work/initrd" \
	--hvmon build/hvmon.elf --hv-opts "console=com1 log=info iommu_selftest=on" >"$work/mkiso.log" 2>&1 \
	|| { echo "vtd_qemu: mkiso failed" >&2; cat "$work/mkiso.log" >&2; exit 1; }
# the same with register-based invalidation forced (QEMU always offers queued)
tests/bochs/mkiso.sh -o "$work/vtd-reg.iso" --kernel "$work/vmlinuz" --initrd "$work/initrd" \
	--hvmon build/hvmon.elf --hv-opts "console=com1 log=info iommu_selftest=register" >>"$work/mkiso.log" 2>&1 \
	|| { echo "vtd_qemu: mkiso failed" >&2; cat "$work/mkiso.log" >&2; exit 1; }

pass=0 failn=0 failed=()
CONFIGS=${VTD_QEMU_CONFIGS:-39:off:qi,39:on:qi,48:off:qi,48:on:qi,48:on:reg}   # aw-bits:caching-mode:invalidation
for cfg in ${CONFIGS//,/ }; do
	IFS=: read -r aw cm inv <<<"$cfg"
	set -- "$aw" "$cm"
	iso=$work/vtd.iso; [ "$inv" = reg ] && iso=$work/vtd-reg.iso
	name=aw$1-cm$2-$inv log=$work/$name.log
	start=$(date +%s)
	timeout "$TMO" qemu-system-x86_64 -M q35 -accel tcg -m 512 -display none -no-reboot -net none \
		-device intel-iommu,aw-bits=$1,caching-mode=$2 \
		-device edu,dma_mask=0xffffffffffff \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-cdrom "$iso" -boot d -serial "file:$log" > "$work/$name.qemu.out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	# isa-debug-exit: exit status (value << 1) | 1, so 1 = hvmon wrote 0 (PASS)
	if [ $rc -eq 1 ] && grep -aq "VTD-SELFTEST: PASS" "$log" && ! grep -aq "VTD-SELFTEST: FAIL" "$log" \
	   && grep -aq "VT-d: DMA remapping on" "$log"; then
		echo "vtd_qemu: PASS $name ($(grep -ao 'VTD-SELFTEST: PASS [0-9/]*' "$log" | cut -d' ' -f3) checks, ${secs%.*} s)"
		pass=$((pass + 1))
	else
		echo "vtd_qemu: FAIL $name (qemu rc $rc, ${secs%.*} s)"
		grep -a "VTD-SELFTEST\|VT-d\|panic\|PANIC" "$log" | tail -30
		tail -5 "$work/$name.qemu.out"
		failn=$((failn + 1)); failed+=("$name")
	fi
	grep -a "VTD-SELFTEST: FAIL \|VTD-SELFTEST: info\|VTD-SELFTEST: cost\|VTD-SELFTEST: table" "$log" | sed "s/^/  $name: /"
done
# q35 without intel-iommu: no DMAR. The self-test runs with iommu=required
# semantics, so hvmon must refuse with the documented message.
log=$work/no-iommu.log
timeout "$TMO" qemu-system-x86_64 -M q35 -accel tcg -m 512 -display none -no-reboot -net none \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -cdrom "$work/vtd.iso" -boot d -serial "file:$log" \
	> "$work/no-iommu.qemu.out" 2>&1 &
qpid=$!
for _ in $(seq 1 $((TMO * 2))); do
	grep -aq "refusing to boot the guest" "$log" 2>/dev/null && break
	kill -0 $qpid 2>/dev/null || break
	sleep 0.5
done
kill $qpid 2>/dev/null; wait $qpid 2>/dev/null
if grep -aq "iommu=required: no working DMA remapping (no ACPI DMAR table); refusing to boot the guest" "$log" \
   && ! grep -aq "VTD-SELFTEST: PASS" "$log"; then
	echo "vtd_qemu: PASS no-iommu (iommu=required refuses without DMAR)"; pass=$((pass + 1))
else
	echo "vtd_qemu: FAIL no-iommu"; tail -5 "$log"; failn=$((failn + 1)); failed+=(no-iommu)
fi
echo "vtd_qemu: $pass passed, $failn failed ${failed[*]:-}"
[ $failn -eq 0 ]

# drivers/vtd/vtd.mk — VT-d DMA remapping (issue 12, docs/VTD.md).
# Pure logic (dmar.c: DMAR/CAP/fault decoding; vtd_domain.c: second-level
# tables over vmm/ept_map) is host-tested and fuzzed; vtd.c is the unit driver;
# vmm/iommu.c the policy; vmm/iommu_selftest.c the QEMU boot mode.
VTD_PURE := drivers/vtd/dmar.c drivers/vtd/vtd_domain.c
HV_SRCS += $(VTD_PURE) drivers/vtd/vtd.c vmm/iommu.c vmm/iommu_selftest.c

UNIT_TESTS += test_vtd
test_vtd_SRCS := tests/unit/test_vtd.c $(VTD_PURE) vmm/ept_map.c events/event.c events/event_json.c

FUZZ_TARGETS += fuzz_dmar
fuzz_dmar_SRCS := tests/fuzz/fuzz_dmar.c $(VTD_PURE) vmm/ept_map.c

INTEGRATION_TESTS += tests/integration/vtd_qemu.sh

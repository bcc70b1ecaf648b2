# vmm/pure.mk — host-testable pure logic of the vmm core (owner: pure-logic engineer).
# Ring -1 sources, cmocka unit tests (tests/unit/test_<module>.c) and libFuzzer targets.

PURE_SRCS := vmm/madt.c vmm/e820.c vmm/linux_boot.c vmm/ept_map.c vmm/ept_view.c vmm/policy.c vmm/options.c vmm/gmem.c vmm/cr0.c
PURE_SRCS += vmm/acpi_sleep.c vmm/xcr0.c vmm/spec.c vmm/tsc_rate.c vmm/cstate.c   # issue 17
PURE_SRCS += vmm/dtr_insn.c   # issue 15: descriptor-table instructions (vmm/dtr.c)
PURE_SRCS := $(wildcard $(PURE_SRCS))
HV_SRCS += $(PURE_SRCS)

define pure_unit
ifneq ($$(wildcard tests/unit/test_$(1).c),)
UNIT_TESTS += test_$(1)
test_$(1)_SRCS := tests/unit/test_$(1).c $(2)
endif
endef
$(eval $(call pure_unit,e820,vmm/e820.c))
$(eval $(call pure_unit,linux_boot,vmm/linux_boot.c vmm/e820.c))
$(eval $(call pure_unit,ept_map,vmm/ept_map.c))
$(eval $(call pure_unit,ept_view,vmm/ept_view.c vmm/ept_map.c))
$(eval $(call pure_unit,policy,vmm/policy.c))
$(eval $(call pure_unit,options,vmm/options.c $(MONITOR_TABLE_SRCS)))
$(eval $(call pure_unit,gmem,vmm/gmem.c))
$(eval $(call pure_unit,cr0,vmm/cr0.c))
$(eval $(call pure_unit,acpi_sleep,vmm/acpi_sleep.c))
$(eval $(call pure_unit,madt,vmm/madt.c))
$(eval $(call pure_unit,xcr0,vmm/xcr0.c))
$(eval $(call pure_unit,tsc_rate,vmm/tsc_rate.c))
$(eval $(call pure_unit,spec,vmm/spec.c))
$(eval $(call pure_unit,cstate,vmm/cstate.c))
$(eval $(call pure_unit,dtr_insn,vmm/dtr_insn.c))

define pure_fuzz
ifneq ($$(wildcard tests/fuzz/fuzz_$(1).c),)
FUZZ_TARGETS += fuzz_$(1)
fuzz_$(1)_SRCS := tests/fuzz/fuzz_$(1).c $(2)
endif
endef
$(eval $(call pure_fuzz,linux_boot,vmm/linux_boot.c vmm/e820.c))
$(eval $(call pure_fuzz,options,vmm/options.c $(MONITOR_TABLE_SRCS)))
$(eval $(call pure_fuzz,e820,vmm/e820.c))
$(eval $(call pure_fuzz,gmem,vmm/gmem.c))
$(eval $(call pure_fuzz,dtr_insn,vmm/dtr_insn.c))
$(eval $(call pure_fuzz,acpi_sleep,vmm/acpi_sleep.c))
$(eval $(call pure_fuzz,madt,vmm/madt.c))

# Real bzImage fixture for test_linux_boot: the pinned Debian kernel, extracted
# from its .deb (downloaded into cache/debs/ by the fixtures script).
LB_TEST_DEB := $(firstword $(wildcard cache/debs/linux-image-6.1.0-56-cloud-amd64-unsigned_*.deb))
LB_TEST_BZIMAGE := cache/kern-6.1-cloud/boot/vmlinuz-6.1.0-56-cloud-amd64
ifneq ($(LB_TEST_DEB),)
$(LB_TEST_BZIMAGE): $(LB_TEST_DEB)
	@mkdir -p cache/kern-6.1-cloud
	dpkg-deb --fsys-tarfile $< | tar -x -C cache/kern-6.1-cloud ./boot
	@touch $@
test_linux_boot_DEPS := $(LB_TEST_BZIMAGE)
endif

# Host benchmark of the pure-logic modules: make build/tools/bench_pure && build/tools/bench_pure
HOST_TOOLS += bench_pure
bench_pure_SRCS := tools/bench/bench_pure.c vmm/e820.c vmm/ept_map.c vmm/options.c vmm/gmem.c

# vmm/core.mk — the vmm core of ring -1 (owner: core engineer). The pure-logic
# modules (e820, linux_boot, ept_map, policy, options, gmem) are in vmm/pure.mk.
HV_SRCS += vmm/main.c \
	vmm/vmx.c vmm/vmcs.c vmm/vmexit.c vmm/cpuid.c vmm/msr.c vmm/cr.c vmm/insn.c \
	vmm/io.c vmm/power.c vmm/stop.c vmm/monitor.c vmm/intercept.c vmm/guest.c vmm/acpi.c vmm/deny.c vmm/ept.c vmm/guest_boot.c \
	vmm/smp.c vmm/smp_apic.c
$(BUILD)/hv/vmm/smp_apic.o: HV_CFLAGS += $(ZYDIS_DEFS) $(ZYDIS_INC)
$(BUILD)/hv/vmm/smp_apic.o: $(ZYDIS_HV_LIB)

# The example monitor of docs/ARCHITECTURE.md "Adding a monitor", on the core's
# registry loop, option parser and intercept table (host).
UNIT_TESTS += test_monitor_example
test_monitor_example_SRCS := tests/unit/test_monitor_example.c vmm/monitor.c vmm/intercept.c vmm/options.c
